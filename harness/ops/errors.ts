/** A malformed op script: names the line and column and says what was expected. */
export class ScriptError extends Error {
  override readonly name = 'ScriptError';
  /**
   * @param line - 1-based line of the script
   * @param col - 1-based column where the problem starts
   * @param detail - what is wrong and what was expected
   */
  constructor(
    readonly line: number,
    readonly col: number,
    readonly detail: string,
  ) {
    super(`line ${line}, column ${col}: ${detail}`);
  }
}

/** Several script errors at once (the parser reports every bad line, not only the first). */
export class ScriptErrors extends Error {
  override readonly name = 'ScriptErrors';
  constructor(readonly errors: readonly ScriptError[]) {
    super(errors.map((e) => e.message).join('\n'));
  }
}
