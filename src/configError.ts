/** A configuration value that cannot be used: the CLI exits 2 naming {@link ConfigError.key}. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`configuration key ${key}: ${message}`);
  }
}
