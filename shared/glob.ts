/**
 * Shell-style globs as the original oxmon uses them for agent patterns and include/exclude
 * lists: `*` any run of characters, `?` one character, `[abc]`, `[a-z]` and `[!abc]` classes.
 * The whole string must match.
 */
export function globToRegExp(glob: string): RegExp {
  let source = "^";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === "*") source += ".*";
    else if (char === "?") source += ".";
    else if (char === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close === -1) {
        source += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, close);
      if (body.startsWith("!")) body = "^" + body.slice(1);
      source += "[" + body.replace(/\\/g, "\\\\") + "]";
      i = close;
    } else source += char.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(source + "$", "s");
}

/** A compiled glob; compile once, match many times. */
export function compileGlob(glob: string): (text: string) => boolean {
  if (glob === "*") return () => true;
  const re = globToRegExp(glob);
  return (text) => re.test(text);
}

/**
 * An include/exclude filter: a name passes when it matches some include glob (or there are
 * none) and no exclude glob.
 */
export function compileFilter(
  include: readonly string[],
  exclude: readonly string[],
): (name: string) => boolean {
  const includes = include.map(compileGlob);
  const excludes = exclude.map(compileGlob);
  return (name) =>
    (includes.length === 0 || includes.some((match) => match(name))) &&
    !excludes.some((match) => match(name));
}
