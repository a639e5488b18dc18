/** A configuration problem, reported at startup as one line naming the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Typed, validating access to environment variables; empty strings count as unset. */
export class EnvReader {
  constructor(private readonly source: NodeJS.ProcessEnv) {}

  raw(name: string): string | undefined {
    const value = this.source[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  string(name: string, fallback: string): string {
    return this.raw(name)?.trim() ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name)?.trim();
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `must be a whole number, got "${value}"`);
    const parsed = Number(value);
    if (parsed < min || parsed > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${parsed}`);
    return parsed;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.trim().toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    throw new ConfigError(name, `must be true or false, got "${value}"`);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T | string): T {
    const value = (this.raw(name)?.trim() ?? fallback) as T;
    if (!allowed.includes(value)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
    return value;
  }

  url(name: string, fallback: string): string {
    const value = this.string(name, fallback);
    try {
      const parsed = new URL(value);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
    } catch {
      throw new ConfigError(name, `must be an http(s) URL, got "${value}"`);
    }
    return value;
  }

  matching(name: string, fallback: string, accept: (value: string) => boolean, expected: string): string {
    const value = this.string(name, fallback);
    if (!accept(value)) throw new ConfigError(name, `must be ${expected}`);
    return value;
  }
}
