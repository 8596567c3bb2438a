/**
 * A configuration value that cannot be used (an environment variable, a flag,
 * a proxy URL); its message is one line naming the variable. Core keeps only
 * the class: the environment table itself belongs to the program
 * (apps/server), and the backends throw it for a bad proxy variable.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}
