/**
 * How the model's named tests run a conformance scenario (`conformance/README.md`): under which
 * profiles (its `profiles:` header, else {@link DEFAULT_PROFILES}) and in which environment (its
 * `env:` header). One definition for `test/model/behaviours.test.ts` and `npm run coverage`,
 * which must run the suite exactly as the tests do.
 */
import { DEFAULT_ENVIRONMENT, type Environment } from '../model/profile.js';
import { ScenarioHeaderError, type ScenarioHeader } from './scenario-header.js';

/** The profiles a scenario without a `# profiles:` header is checked under. */
export const DEFAULT_PROFILES: readonly string[] = ['c-pre2019', 'c-final', 'ack-c', 'ack-rust'];

/** The profiles a scenario is checked under. */
export function checkedProfiles(h: ScenarioHeader): readonly string[] {
  return h.profiles.length > 0 ? h.profiles : DEFAULT_PROFILES;
}

/**
 * The environment a scenario's `# env:` header asks for (DEFAULT_ENVIRONMENT otherwise):
 * `no-root`, `kernel X.Y`, `bits 32|64`, `api N`, `memory MIB` (RAM plus swap), space-separated.
 * @throws {@link ScenarioHeaderError} naming file and line for an unknown word or a bad value
 */
export function scenarioEnvironment(text: string, file: string): Environment {
  let env: Environment = DEFAULT_ENVIRONMENT;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (!raw.startsWith('#')) break;
    const m = /^#\s*env:\s*(.*?)\s*$/.exec(raw);
    if (m === null) continue;
    const fail = (msg: string): never => { throw new ScenarioHeaderError(file, i + 1, msg); };
    const words = (m[1] ?? '').split(/\s+/).filter((w) => w !== '');
    for (let k = 0; k < words.length; k++) {
      const w = words[k];
      const arg = (): string => words[++k] ?? fail(`"${w ?? ''}" needs a value`);
      if (w === 'no-root') env = { ...env, root: false };
      else if (w === 'kernel') {
        const v = /^(\d+)\.(\d+)/.exec(arg()) ?? fail('kernel wants a release such as 6.1');
        env = { ...env, kernelSeeksWithoutFmode: Number(v[1]) >= 6, kernelVersion: [Number(v[1]), Number(v[2])] };
      } else if (w === 'bits') {
        const v = arg();
        if (v !== '32' && v !== '64') fail('bits is 32 or 64');
        env = { ...env, callerBits: v === '32' ? 32 : 64 };
      } else if (w === 'api') {
        const v = arg();
        if (!/^[1-9][0-9]*$/.test(v)) fail('api wants an API level');
        env = { ...env, apiLevel: Number(v) };
      } else if (w === 'memory') {
        const v = arg();
        if (!/^[1-9][0-9]*$/.test(v)) fail('memory wants MiB of RAM plus swap');
        env = { ...env, memoryBytes: Number(v) * 1024 * 1024 };
      } else fail(`unknown env word "${w ?? ''}" (no-root, kernel X.Y, bits 32|64, api N, memory MIB)`);
    }
  }
  return env;
}
