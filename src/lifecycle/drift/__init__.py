"""Parts of the drift check that only the report needs (HTML rendering)."""
