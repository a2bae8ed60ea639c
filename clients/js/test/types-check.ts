// Compiled by run-tests.sh with tsc --strict against toktok.d.ts: the
// declarations describe the API as an app uses it.
import { createClient, TokTokError, type SignInResult } from "../toktok.js";
const auth = createClient({ url: "https://auth.example.com", storage: "local" });
async function main(): Promise<void> {
  const r: SignInResult = await auth.signIn({ email: "a@b.c", password: "x" });
  if (r.mfa) await auth.verifyMfa({ mfaToken: r.mfa.token, totp: "123456" });
  const token: string | null = await auth.getAccessToken();
  try { await auth.getUser(); } catch (e) { if (e instanceof TokTokError) console.log(e.code, e.status, e.errors.length, token); }
  auth.onAuthStateChange((event, session) => console.log(event, session?.user.email));
}
void main();
async function more(): Promise<void> {
  const local = createClient({ storage: { getItem: async () => null, setItem: async () => {}, removeItem: () => {}, shared: true } });
  const up = await local.signUp({ email: "a@b.c", password: "x", metadata: { plan: "free" } });
  if ("confirmation_sent" in up) console.log(up.user.email);
  const sessions = await local.listSessions();
  for (const s of sessions) if (!s.current) await local.revokeSession(s.id);
  const factors = await local.listFactors();
  console.log(factors.passkeys.map((p) => p.name), factors.recovery_codes.remaining);
  const { recovery_codes } = await local.confirmTotp("123456");
  console.log(recovery_codes.length);
  await local.reauthenticate({ passkey: true });
  await local.signOut({ scope: "all" });
}
void more();
