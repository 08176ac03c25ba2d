// Passphrases an operator may choose (issue 14: any printable character is
// accepted) and that every writer must carry unchanged: quotes, $, backticks, =,
// #, ;, backslashes, inner spaces, non-ASCII. Each is at least 20 characters and
// has no blank at either end (pgBackRest trims those; config refuses them).
export const NASTY_SECRETS: readonly string[] = [
  `it's "quoted" and \`backticked\` $HOME`,
  "a=b=c #not-a-comment ;not;a;separator",
  "back\\slash\\es\\\\ and \\n literally \\",
  "$(touch /tmp/pwned) ${IFS} `id` | & > < *",
  "correct horse   battery staple",
  "ünïcödé pässphrase — 長いパスフレーズ",
  "%s%n%x %% {} [] ~!@^&()+?,./:",
];
