// The list syntax of sweeps: values separated by commas; a value holding a comma writes it
// `\,`, and a backslash before a comma or backslash `\\`.

/** Split at commas not escaped with a backslash; `\,` is a comma, `\\` a backslash. */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && (value[i + 1] === ',' || value[i + 1] === '\\')) {
      cur += value[++i];
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((v) => v.trim()).filter((v) => v !== '');
}

/** A value written so that splitList gives it back whole. */
export function escapeListValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/,/g, '\\,');
}
