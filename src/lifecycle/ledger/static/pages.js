// What the ledger's pages share, written into each page in place of its placeholder comment.
const usd = (v) => "$" + Number(v).toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
function setTotal(id, value, text) {
  const el = document.getElementById(id);
  el.dataset.value = value === null ? "" : String(value);
  el.textContent = text;
}
function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}
