/**
 * The kinds of backend a session can use, each named once here. A client's
 * config says `version: 1` or `version: 3` (the old service's numbers); the
 * config parser maps that number to a kind, and from there on everything —
 * cooldowns, default credentials, the backend chosen — is keyed by the kind.
 * Adding a backend kind means adding an entry to a registry; the pool does
 * not change.
 */

/** A backend kind's name, e.g. "access-token" or "api-key". */
export type BackendKind = string;

export const ACCESS_TOKEN_KIND = "access-token";
export const API_KEY_KIND = "api-key";

export const DEFAULT_ACCESS_TOKEN_COOLDOWN_MS = 75_000;
export const DEFAULT_API_KEY_COOLDOWN_MS = 15_000;

/** What core needs to know about one kind of backend. */
export interface BackendKindSpec {
  readonly kind: BackendKind;
  /** The `version` number a client's config names this kind by. */
  readonly version: number;
  /** How error messages name the credential, e.g. "API key". */
  readonly credentialLabel: string;
  /** The config field named in "config has no …" when no credential was given. */
  readonly credentialField: string;
  /** Whether replies pass through the speech reply filter unless the config says otherwise. */
  readonly filterByDefault: boolean;
  /** Minimum interval between two upstream requests per credential, unless the pool is told otherwise. */
  readonly defaultCooldownMs: number;
}

/**
 * The kinds a server knows, in order of preference: a config with no version
 * (empty, so "the server's defaults") takes the first kind the server holds a
 * default credential for.
 */
export class BackendKindRegistry {
  readonly #specs: readonly BackendKindSpec[];

  constructor(specs: readonly BackendKindSpec[]) {
    const kinds = new Set<string>();
    const versions = new Set<number>();
    for (const spec of specs) {
      if (kinds.has(spec.kind)) throw new RangeError(`backend kind ${spec.kind} is registered twice`);
      if (versions.has(spec.version)) throw new RangeError(`version ${spec.version} names two backend kinds`);
      if (!Number.isInteger(spec.version)) throw new RangeError(`version ${spec.version} is not a whole number`);
      kinds.add(spec.kind);
      versions.add(spec.version);
    }
    if (specs.length === 0) throw new RangeError("a registry needs at least one backend kind");
    this.#specs = [...specs];
  }

  /** Every kind, in order of preference. */
  get specs(): readonly BackendKindSpec[] {
    return this.#specs;
  }

  /** A new registry with `spec` added (last in preference). */
  with(spec: BackendKindSpec): BackendKindRegistry {
    return new BackendKindRegistry([...this.#specs, spec]);
  }

  byVersion(version: number): BackendKindSpec | undefined {
    return this.#specs.find((spec) => spec.version === version);
  }

  /** @throws RangeError for a kind that is not registered (a programming error, not a client's). */
  get(kind: BackendKind): BackendKindSpec {
    const spec = this.#specs.find((s) => s.kind === kind);
    if (spec === undefined) throw new RangeError(`unknown backend kind ${kind}`);
    return spec;
  }

  /** The versions for messages, lowest first: e.g. ["1 (access token)", "3 (API key)"]. */
  describeVersions(format: (spec: BackendKindSpec) => string): string[] {
    return [...this.#specs].sort((a, b) => a.version - b.version).map(format);
  }
}

/**
 * The two kinds this server ships: an OpenAI-compatible API with an API key
 * (version 3, preferred for an empty config), and the ChatGPT web protocol
 * with an access token (version 1).
 */
export const BUILTIN_BACKEND_KINDS = new BackendKindRegistry([
  {
    kind: API_KEY_KIND,
    version: 3,
    credentialLabel: "API key",
    credentialField: "api_key",
    filterByDefault: true,
    defaultCooldownMs: DEFAULT_API_KEY_COOLDOWN_MS,
  },
  {
    kind: ACCESS_TOKEN_KIND,
    version: 1,
    credentialLabel: "access token",
    credentialField: "access_token",
    filterByDefault: false,
    defaultCooldownMs: DEFAULT_ACCESS_TOKEN_COOLDOWN_MS,
  },
]);

/** Cooldowns as the pool takes them: by kind, or the built-in kinds by their README names. */
export interface CooldownOptions {
  /** Per access token (the "access-token" kind). */
  readonly accessTokenMs?: number;
  /** Per API key (the "api-key" kind). */
  readonly apiKeyMs?: number;
  /** By backend kind; wins over the two above. */
  readonly byKind?: { readonly [kind: BackendKind]: number | undefined };
}

/** The cooldown of `kind`: the option naming it, else the kind's default. */
export function cooldownFor(spec: BackendKindSpec, options: CooldownOptions = {}): number {
  const named =
    options.byKind?.[spec.kind] ??
    (spec.kind === API_KEY_KIND
      ? options.apiKeyMs
      : spec.kind === ACCESS_TOKEN_KIND
        ? options.accessTokenMs
        : undefined);
  return named ?? spec.defaultCooldownMs;
}
