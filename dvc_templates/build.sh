#!/usr/bin/env bash
# Rebuild plots.html: DVC's page with vega, vega-lite and vega-embed inlined (no CDN), so
# `dvc plots show` output renders offline and opened as a file. Needs npm (development only).
# The versions are the ones dvc-render's own page loads from the CDN.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
packages=(vega@5.20.2 vega-lite@5.2.0 vega-embed@6.18.2)
npm pack --silent "${packages[@]}" >/dev/null
for tgz in *.tgz; do mkdir "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"; done
{
  printf '%s\n' '<!DOCTYPE html>' '<html>' '<head>' '    {refresh_tag}' \
    '    <meta charset="utf-8">' '    <title>DVC Plot</title>' \
    '    <!-- vega, vega-lite, vega-embed inlined (licences: dvc_templates/licenses/); built by dvc_templates/build.sh -->'
  for name in vega-5.20.2/package/build/vega.min.js \
    vega-lite-5.2.0/package/build/vega-lite.min.js \
    vega-embed-6.18.2/package/build/vega-embed.min.js; do
    printf '<script>\n'; cat "$name"; printf '\n</script>\n'
  done
  printf '%s\n' '    <style>' '        table {' '            border-spacing: 15px;' '        }' \
    '    </style>' '</head>' '<body>' '    {plot_divs}' '</body>' '</html>'
} >"$here/plots.html"
for p in vega-5.20.2 vega-lite-5.2.0 vega-embed-6.18.2; do
  cp "$p/package/LICENSE" "$here/licenses/${p%-*}.LICENSE"
done
