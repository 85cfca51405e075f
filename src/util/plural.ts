// "1 trial", "2 trials": counts in messages read as English.

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
