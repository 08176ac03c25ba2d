// One ini reader for the rendered pgbouncer.ini and pgbackrest.conf: `[section]`,
// `key = value` (spaces around `=` optional, value may be empty), `;`/`#` comment
// lines. Strict: a line that is none of these, a key outside a section, or a
// section or key given twice is an error, so a rendering mistake cannot hide.
export type Ini = Record<string, Record<string, string>>;

export function parseIni(text: string): Ini {
  const out: Ini = {};
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1];
      if (out[section]) throw new Error(`section ${section} twice`);
      out[section] = {};
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) throw new Error(`not a key = value line: ${line}`);
    if (section === "") throw new Error(`key outside a section: ${line}`);
    const key = line.slice(0, eq).trim();
    if (key in out[section]) throw new Error(`key ${key} twice in [${section}]`);
    out[section][key] = line.slice(eq + 1).trim();
  }
  return out;
}
