/**
 * Debian 11 ("bullseye") kernels with the mainline staging ashmem driver as a module
 * (`kernel/drivers/staging/android/ashmem_linux.ko`), fetched by package name with apt through a
 * private sources list, state and cache below the vm cache (the host's apt set-up is never
 * touched), then unpacked with `dpkg-deb`. Also the guest's static busybox, from the same archive.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { TargetError } from '../target.js';
import { cachedEntry, sweepStale } from './cache.js';
import { ASHMEM_MODULE, indexModules, loadOrder, NETWORK_MODULES } from './modules.js';
import type { VmArch } from './vm-spec.js';

const run = promisify(execFile);

/** Debian's architecture and kernel flavour for a guest. */
export const DEBIAN_ARCH = { x86_64: 'amd64', arm64: 'arm64' } as const satisfies Record<VmArch, string>;

/** A kernel the guest can boot, with the modules its init loads in order. */
export interface GuestKernel {
  readonly arch: VmArch;
  /** bzImage / Image. */
  readonly image: string;
  /** `.ko` files, dependencies first; the ashmem module last when it is a module. */
  readonly modules: readonly string[];
  /** `uname -r` of the kernel, when known before boot. */
  readonly release: string | undefined;
  /** Where it came from, for facts and reports. */
  readonly source: string;
}

/** A package or tool could not be had. */
export class KernelFetchError extends TargetError {
  override readonly name = 'KernelFetchError';
}

/** The kernel has no ashmem driver. */
export class NoAshmemError extends TargetError {
  override readonly name = 'NoAshmemError';
}

/** Bounds of the apt steps: an archive that does not answer is an error, not a hang. */
const APT_MS = 10 * 60_000;

/** Reads the host's Debian archive and security URIs from its apt sources (default deb.debian.org). */
export function debianMirrors(env: NodeJS.ProcessEnv = process.env): { archive: string; security: string } {
  let archive = env['ASHMEM_HARNESS_DEBIAN_MIRROR'];
  let security = env['ASHMEM_HARNESS_DEBIAN_SECURITY_MIRROR'];
  const texts: string[] = [];
  for (const f of ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').filter((n) => /\.(list|sources)$/.test(n)).map((n) => path.join('/etc/apt/sources.list.d', n))]) {
    try {
      texts.push(fs.readFileSync(f, 'utf8'));
    } catch {
      // unreadable or absent: the defaults stand
    }
  }
  for (const uri of texts.join('\n').match(/(?:https?):\/\/[^\s\]]+/g) ?? []) {
    const clean = uri.replace(/\/+$/, '');
    if (security === undefined && /\/debian-security$/.test(clean)) security = clean;
    else if (archive === undefined && /\/debian$/.test(clean)) archive = clean;
  }
  return { archive: archive ?? 'http://deb.debian.org/debian', security: security ?? 'http://deb.debian.org/debian-security' };
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** apt's options for a private set-up below `dir` that sees only bullseye for `debArch`. */
function aptOptions(dir: string, debArch: string): string[] {
  return [
    '-o', `Dir::Etc::SourceList=${path.join(dir, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${path.join(dir, 'lists')}`,
    '-o', `Dir::Cache=${path.join(dir, 'cache')}`,
    '-o', 'Dir::State::status=/dev/null',
    '-o', `APT::Architecture=${debArch}`,
    '-o', `APT::Architectures::=${debArch}`,
    '-o', 'Debug::NoLocking=1',
    '-o', 'APT::Sandbox::User=root',
    '-o', 'Acquire::Retries=2',
    '-q',
  ];
}

async function tool(command: string, args: readonly string[], cwd: string, what: string, withStderr = false): Promise<string> {
  try {
    const r = await run(command, args, { cwd, timeout: APT_MS, maxBuffer: 64 << 20 });
    return withStderr ? `${r.stdout}\n${r.stderr}` : r.stdout;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string; killed?: boolean };
    if (err.code === 'ENOENT') throw new KernelFetchError(`${command} not found: ${what} needs it (run scripts/setup-host, or install ${command === 'dpkg-deb' ? 'dpkg' : 'apt'})`);
    if (err.killed === true) throw new KernelFetchError(`${what} did not finish within ${APT_MS / 60_000} min: is Debian's archive reachable?`);
    const detail = (err.stderr ?? err.message).trim().split('\n').filter((l) => /^(E|W|Err):|error/i.test(l)).slice(0, 3).join(' / ');
    throw new KernelFetchError(`${what} failed: ${detail || err.message.split('\n')[0]} (the archive must be reachable; or pass --vm-kernel-deb PATH with a local package)`);
  }
}

/** A private apt that knows bullseye's packages for one architecture. */
class PrivateApt {
  constructor(private readonly dir: string, private readonly debArch: string) {}

  /** Writes the sources list and fetches the package lists. */
  async update(): Promise<void> {
    const { archive, security } = debianMirrors();
    fs.mkdirSync(path.join(this.dir, 'lists', 'partial'), { recursive: true });
    fs.mkdirSync(path.join(this.dir, 'cache', 'archives', 'partial'), { recursive: true });
    const opts = `[arch=${this.debArch} signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]`;
    fs.writeFileSync(path.join(this.dir, 'sources.list'), `deb ${opts} ${archive} bullseye main\ndeb ${opts} ${security} bullseye-security main\n`);
    const said = await tool('apt-get', [...aptOptions(this.dir, this.debArch), 'update'], this.dir, "fetching Debian bullseye's package lists", true);
    // apt-get update exits 0 when every source failed (it only warns): no Packages list is the failure.
    if (!listDir(path.join(this.dir, 'lists')).some((n) => n.includes('bullseye') && n.endsWith('_Packages'))) {
      const why = said.split('\n').filter((l) => /^(W|E|Err):/.test(l.trim())).slice(0, 2).join(' / ') || 'no package list arrived';
      throw new KernelFetchError(`fetching Debian bullseye's package lists failed: ${why} from ${archive} (the archive must be reachable; or pass --vm-kernel-deb PATH with a local package)`);
    }
  }

  /** Every version of a package the lists offer, newest first (`apt-cache madison`). */
  async versions(pkg: string): Promise<string[]> {
    const out = await tool('apt-cache', [...aptOptions(this.dir, this.debArch), 'madison', pkg], this.dir, `looking up ${pkg}`);
    const seen = out.split('\n').map((l) => l.split('|')[1]?.trim()).filter((v): v is string => v !== undefined && v !== '');
    if (seen.length === 0) throw new KernelFetchError(`${pkg} is not in Debian bullseye for ${this.debArch}`);
    return [...new Set(seen)];
  }

  /** The package a metapackage's version depends on (`linux-image-amd64=5.10.262-1` → `linux-image-5.10.0-46-amd64`). */
  async dependency(meta: string, version: string, prefix: string): Promise<string> {
    const out = await tool('apt-cache', [...aptOptions(this.dir, this.debArch), 'depends', `${meta}=${version}`], this.dir, `resolving ${meta}`);
    const dep = /Depends:\s*(\S+)/.exec(out.split('\n').find((l) => l.includes(`Depends: ${prefix}`)) ?? '')?.[1];
    if (dep === undefined) throw new KernelFetchError(`${meta} ${version} names no ${prefix}* package in bullseye`);
    return dep.replace(/:.*$/, '');
  }

  /** Downloads a package's .deb into `dest`; returns its path. */
  async download(pkg: string, dest: string): Promise<string> {
    fs.mkdirSync(dest, { recursive: true });
    const before = new Set(fs.readdirSync(dest));
    await tool('apt-get', [...aptOptions(this.dir, this.debArch), 'download', pkg], dest, `downloading ${pkg.replace(/=.*$/, '')}`);
    const name = pkg.replace(/[:=].*$/, '');
    const got = fs.readdirSync(dest).find((n) => n.endsWith('.deb') && n.startsWith(`${name}_`) && !before.has(n)) ?? fs.readdirSync(dest).find((n) => n.startsWith(`${name}_`) && n.endsWith('.deb'));
    if (got === undefined) throw new KernelFetchError(`apt-get download ${pkg} left no .deb in ${dest}`);
    return path.join(dest, got);
  }
}

/** Unpacks a .deb's files into `dest`. */
async function unpack(deb: string, dest: string): Promise<void> {
  fs.mkdirSync(dest, { recursive: true });
  await tool('dpkg-deb', ['-x', deb, dest], dest, `unpacking ${path.basename(deb)}`);
}

/**
 * Takes the kernel image and the guest's modules (network, then ashmem) out of an unpacked kernel
 * package into `dest` (`vmlinuz`, `modules/NN-name.ko`, `release`).
 * @throws NoAshmemError when the package has no ashmem module
 */
export function harvestKernel(unpacked: string, dest: string, label: string): void {
  const boot = path.join(unpacked, 'boot');
  const image = listDir(boot).find((n) => /^vmlinu[xz]-/.test(n));
  const release = listDir(path.join(unpacked, 'lib', 'modules'))[0];
  if (image === undefined || release === undefined) throw new KernelFetchError(`${label} holds no /boot/vmlinuz-* and /lib/modules/<release>: not a kernel image package`);
  const index = indexModules(path.join(unpacked, 'lib', 'modules', release));
  if (!index.has(ASHMEM_MODULE)) throw new NoAshmemError(`this kernel has no ashmem: ${label} ships no ${ASHMEM_MODULE}.ko (CONFIG_ASHMEM is off); use a kernel built with CONFIG_ASHMEM`);
  const order = loadOrder(index, [...NETWORK_MODULES, ASHMEM_MODULE], [ASHMEM_MODULE]);
  fs.mkdirSync(path.join(dest, 'modules'), { recursive: true });
  fs.copyFileSync(path.join(boot, image), path.join(dest, 'vmlinuz'));
  order.forEach((file, n) => fs.copyFileSync(file, path.join(dest, 'modules', `${String(n).padStart(2, '0')}-${path.basename(file)}`)));
  fs.writeFileSync(path.join(dest, 'release'), `${release}\n`);
  fs.writeFileSync(path.join(dest, 'source'), `${label}\n`);
}

/** Reads a harvested kernel folder. */
export function harvestedKernel(arch: VmArch, dir: string): GuestKernel {
  const modules = listDir(path.join(dir, 'modules')).sort().map((n) => path.join(dir, 'modules', n));
  return {
    arch,
    image: path.join(dir, 'vmlinuz'),
    modules,
    release: fs.readFileSync(path.join(dir, 'release'), 'utf8').trim(),
    source: fs.readFileSync(path.join(dir, 'source'), 'utf8').trim(),
  };
}

/** What to say while a slow step runs. */
export type Progress = (line: string) => void;

/** Options of {@link debianKernel}. */
export interface FetchOptions {
  /** The vm cache root. */
  readonly cache: string;
  /** Re-resolve the newest kernel even when one is cached. */
  readonly refresh?: boolean;
  readonly progress?: Progress;
}

function newestCached(dir: string, prefix: string): string | undefined {
  return listDir(dir).filter((n) => n.startsWith(prefix) && !n.includes('.tmp-') && !n.endsWith('.lock')).sort().pop();
}

/**
 * Debian bullseye's newest kernel for a guest architecture, from the cache or fetched into it.
 * Without `refresh` a cached kernel is used without touching the network.
 */
export async function debianKernel(arch: VmArch, opts: FetchOptions): Promise<GuestKernel> {
  const debArch = DEBIAN_ARCH[arch];
  const base = path.join(opts.cache, 'vm', 'debian', debArch);
  fs.mkdirSync(base, { recursive: true });
  sweepStale(base);
  const cached = opts.refresh === true ? undefined : newestCached(base, 'kernel-');
  if (cached !== undefined) return harvestedKernel(arch, path.join(base, cached));
  const apt = new PrivateApt(path.join(base, 'apt'), debArch);
  opts.progress?.(`vm: fetching Debian bullseye's package lists for ${debArch} (first use; cached in ${opts.cache})`);
  await apt.update();
  // Newest first; a version the lists name but the archive does not serve (a 404) gives way to the next.
  const failures: string[] = [];
  for (const metaVersion of await apt.versions(`linux-image-${debArch}`)) {
    const pkg = await apt.dependency(`linux-image-${debArch}`, metaVersion, 'linux-image-5.10');
    const dir = path.join(base, `kernel-${pkg}_${metaVersion}`);
    try {
      await cachedEntry(dir, APT_MS, () => opts.progress?.(`vm: waiting for another run to fetch ${pkg}`), async (tmp) => {
        opts.progress?.(`vm: downloading ${pkg} ${metaVersion} (about 50 MB)`);
        const deb = await apt.download(`${pkg}=${metaVersion}`, path.join(base, 'debs'));
        const unpacked = `${tmp}.unpacked`;
        try {
          await unpack(deb, unpacked);
          harvestKernel(unpacked, tmp, `Debian ${pkg} ${metaVersion}`);
        } finally {
          fs.rmSync(unpacked, { recursive: true, force: true });
        }
      });
      return harvestedKernel(arch, dir);
    } catch (e) {
      if (!(e instanceof KernelFetchError)) throw e;
      failures.push(e.message);
      opts.progress?.(`vm: ${pkg} ${metaVersion} could not be had; trying an older one`);
    }
  }
  throw new KernelFetchError(failures.join(' / '));
}

/** The guest's static busybox (Debian bullseye's busybox-static for the guest architecture). */
export async function debianBusybox(arch: VmArch, opts: FetchOptions): Promise<string> {
  const debArch = DEBIAN_ARCH[arch];
  const base = path.join(opts.cache, 'vm', 'debian', debArch);
  fs.mkdirSync(base, { recursive: true });
  const cached = opts.refresh === true ? undefined : newestCached(base, 'busybox-');
  if (cached !== undefined) return path.join(base, cached, 'busybox');
  const apt = new PrivateApt(path.join(base, 'apt'), debArch);
  if (!fs.existsSync(path.join(base, 'apt', 'lists'))) await apt.update();
  const failures: string[] = [];
  for (const version of await apt.versions('busybox-static')) {
    const dir = path.join(base, `busybox-${version.replace(/[^A-Za-z0-9.+~-]/g, '_')}`);
    try {
      await cachedEntry(dir, APT_MS, undefined, async (tmp) => {
        opts.progress?.(`vm: downloading busybox-static ${version} for ${debArch}`);
        const deb = await apt.download(`busybox-static=${version}`, path.join(base, 'debs'));
        const unpacked = `${tmp}.unpacked`;
        try {
          await unpack(deb, unpacked);
          fs.mkdirSync(tmp, { recursive: true });
          fs.copyFileSync(path.join(unpacked, 'bin', 'busybox'), path.join(tmp, 'busybox'));
        } finally {
          fs.rmSync(unpacked, { recursive: true, force: true });
        }
      });
      return path.join(dir, 'busybox');
    } catch (e) {
      if (!(e instanceof KernelFetchError)) throw e;
      failures.push(e.message);
    }
  }
  throw new KernelFetchError(failures.join(' / '));
}

/**
 * A kernel package the user has (`--vm-kernel-deb PATH`): unpacked into the cache, keyed by its
 * file name and size, without any network.
 */
export async function localKernelDeb(arch: VmArch, deb: string, opts: FetchOptions): Promise<GuestKernel> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(deb);
  } catch {
    throw new KernelFetchError(`--vm-kernel-deb ${deb}: no such file`);
  }
  const base = path.join(opts.cache, 'vm', 'local-debs');
  fs.mkdirSync(base, { recursive: true });
  const dir = path.join(base, `${path.basename(deb, '.deb').replace(/[^A-Za-z0-9.+~_-]/g, '_')}-${stat.size}-${Math.floor(stat.mtimeMs)}`);
  await cachedEntry(dir, APT_MS, undefined, async (tmp) => {
    opts.progress?.(`vm: unpacking ${path.basename(deb)}`);
    const unpacked = `${tmp}.unpacked`;
    try {
      await unpack(deb, unpacked);
      harvestKernel(unpacked, tmp, `kernel package ${path.basename(deb)}`);
    } finally {
      fs.rmSync(unpacked, { recursive: true, force: true });
    }
  });
  return harvestedKernel(arch, dir);
}
