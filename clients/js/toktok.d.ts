// Types of toktok.js (the same directory). Checked by `tsc --strict` in CI.

export interface User {
  id: string;
  email: string;
  email_confirmed: boolean;
  name: string | null;
  role: string;
  metadata: Record<string, unknown>;
  locale?: string | null;
  created_at: string;
  updated_at: string;
}

export interface FieldError {
  field: string;
  message: string;
}

/** Every failure. `status` 0 is found by the client itself: `code` is then
 *  `network_error`, `passkeys_unsupported`, `passkey_cancelled`,
 *  `not_signed_in`, `bad_answer`, `bad_option` or `storage_unavailable`. */
export class TokTokError extends Error {
  readonly name: "TokTokError";
  readonly status: number;
  /** The problem's stable code, e.g. `invalid_credentials`, `token_reused`. */
  readonly code: string;
  readonly title: string | null;
  readonly detail: string | null;
  /** Field errors of a 422 `validation_failed`. */
  readonly errors: FieldError[];
  /** Seconds to wait (429, 503). */
  readonly retryAfter: number | null;
  readonly problem: Record<string, unknown>;
}

/** Where the tokens live: "memory" (the default: this page only), "local"
 *  (localStorage: shared by the origin's tabs, readable by any script on
 *  it), or your own adapter (set `shared: true` when tabs share it). */
export interface StorageAdapter {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
  shared?: boolean;
}

export interface ClientOptions {
  /** The toktok server, e.g. "https://auth.example.com" (default in a
   *  browser: the page's origin). */
  url?: string;
  storage?: "memory" | "local" | StorageAdapter;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
  /** Refresh this many seconds before the access token expires (30). */
  refreshMargin?: number;
  /** One refresh at a time across tabs sharing the storage (true). */
  lock?: boolean;
}

export interface MfaStep {
  token: string;
  factors: Array<"totp" | "passkey" | "recovery_code">;
  expiresIn: number;
}

/** A first factor's outcome: signed in (`user`), or a second step due. */
export type SignInResult =
  | { user: User; mfa: null }
  | { user: null; mfa: MfaStep };

export type SignUpResult = SignInResult | { user: User; mfa: null; confirmation_sent: true };

export type AuthEvent = "SIGNED_IN" | "SIGNED_OUT" | "TOKEN_REFRESHED" | "USER_UPDATED";

export interface SessionInfo {
  user: User;
  /** Milliseconds since 1970 when the access token expires. */
  expiresAt: number;
}

export interface SessionRow {
  id: string;
  created_at: string;
  last_used_at: string;
  user_agent: string | null;
  ip: string | null;
  current: boolean;
}

export interface Passkey {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  backed_up: boolean;
}

export interface Factors {
  totp: { created_at: string } | null;
  passkeys: Passkey[];
  recovery_codes: { remaining: number };
}

export interface Settings {
  anonymous: { enabled: boolean; required: boolean };
  rsa: { enabled: boolean; required: boolean };
  email: { enabled: boolean; confirmation_required: boolean };
  password: { min_length: number; max_length: number };
  registration_open: boolean;
  [feature: string]: unknown;
}

export declare class TokTokClient {
  constructor(options?: ClientOptions);
  onAuthStateChange(listener: (event: AuthEvent, session: SessionInfo | null) => void): () => void;
  settings(): Promise<Settings>;
  getAccessToken(): Promise<string | null>;
  refresh(seen?: string | null): Promise<string | null>;
  request<T = unknown>(method: string, path: string, json?: unknown): Promise<T>;
  getSession(): Promise<SessionInfo | null>;

  signUp(fields: { email: string; password: string; name?: string; metadata?: Record<string, unknown> }): Promise<SignUpResult>;
  signIn(credentials: { email: string; password: string }): Promise<SignInResult>;
  verifyMfa(step: { mfaToken: string; totp?: string; recoveryCode?: string; passkey?: boolean }): Promise<SignInResult>;
  signInWithPasskey(): Promise<SignInResult>;
  sendEmailCode(fields: { email: string; createUser?: boolean }): Promise<void>;
  verifyEmailCode(fields: { email: string; code: string } | { token: string }): Promise<SignInResult>;
  reauthenticate(proof: { password: string } | { totp: string } | { recoveryCode: string } | { passkey: true }): Promise<{ user: User }>;
  signOut(options?: { scope?: "local" | "all" }): Promise<void>;

  getUser(): Promise<User>;
  updateUser(fields: { name?: string | null; metadata?: Record<string, unknown> }): Promise<User>;
  changePassword(fields: { currentPassword?: string; newPassword: string }): Promise<void>;
  changeEmail(fields: { newEmail: string; password: string }): Promise<void>;
  deleteAccount(fields: { password: string }): Promise<void>;
  listSessions(): Promise<SessionRow[]>;
  revokeSession(id: string): Promise<void>;

  listFactors(): Promise<Factors>;
  enrollTotp(): Promise<{ secret: string; otpauth_uri: string; expires_in: number }>;
  confirmTotp(code: string): Promise<{ recovery_codes: string[] }>;
  disableTotp(): Promise<null>;
  regenerateRecoveryCodes(): Promise<{ recovery_codes: string[] }>;
  addPasskey(options?: { name?: string }): Promise<Passkey>;
  renamePasskey(id: string, name: string): Promise<Passkey>;
  removePasskey(id: string): Promise<null>;
}

export declare function createClient(options?: ClientOptions): TokTokClient;
