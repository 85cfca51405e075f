// The firmware in setup lines: "qboot", "SeaBIOS", "firmware /path/x.rom".

/** The header's `config.firmware` (absent in files from before --firmware: nothing is shown). */
export function firmwareLabel(fw: unknown): string | undefined {
  if (!fw || typeof fw !== 'object') return undefined;
  const { name, bios } = fw as { name?: unknown; bios?: unknown };
  if (name === 'qboot') return 'qboot';
  if (name === 'seabios') return 'SeaBIOS';
  if (name === 'file') return `firmware ${typeof bios === 'string' ? bios : '?'}`;
  return undefined;
}
