/**
 * A release bundle's manifest (manifest.json) as a shape: what make-bundle writes, the agent's
 * `update` command reads before it fetches (agent/update/) and the root-side apply step trusts
 * once its signature is verified (scripts/release/manifest.ts). zod only: the apply step runs
 * as root and loads as little as it can.
 */
import { z } from 'zod';

export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.sig';
/**
 * manifest.json gzipped, beside it in a bundle folder: what a gateway fetches first (the x64
 * manifest is 1.65 MB, ~0.5 MB gzipped: minutes on a weak link). Not signed itself: the signature
 * covers manifest.json's bytes, which the agent unpacks and stages.
 */
export const MANIFEST_GZ = 'manifest.json.gz';
/** A manifest for ~10,000 files is ~1.5 MB; more than this is not ours. */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

/**
 * A path inside a release: relative, '/'-separated, no '.', '..' or empty segment, no NUL or
 * backslash. Anything else could write outside releases/<version> when joined to it.
 */
export function checkRelPath(p: string): string | null {
  if (p.length === 0 || p.length > 4096) return 'empty or too long';
  if (p.startsWith('/')) return 'absolute';
  if (/[\0\\]/.test(p)) return 'a NUL or a backslash';
  if (p.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'a "", "." or ".." segment';
  return null;
}

const relPath = z.string().superRefine((p, ctx) => {
  const why = checkRelPath(p);
  if (why) ctx.addIssue({ code: 'custom', message: `path ${JSON.stringify(p)}: ${why}` });
});

export const fileEntry = z.strictObject({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  // Permission bits only: a bundle never carries setuid, setgid or sticky files.
  mode: z.number().int().min(0).max(0o777),
});
export type FileEntry = z.infer<typeof fileEntry>;

export const manifestSchema = z
  .strictObject({
    v: z.literal(1),
    version: z.string().regex(/^[0-9A-Za-z.+-]{1,64}$/),
    arch: z.string().regex(/^[a-z0-9_]{1,16}$/),
    /** The bundled Node's version, or "system" when the release runs on the gateway's own node. */
    node: z.string().max(64),
    createdAt: z.string(),
    files: z.record(relPath, fileEntry),
    /** Links inside the release (node_modules' own), as path -> relative target. */
    links: z.record(relPath, z.string()),
  })
  .superRefine((m, ctx) => {
    for (const [at, target] of Object.entries(m.links)) {
      if (!linkStaysInside(at, target))
        ctx.addIssue({ code: 'custom', message: `link ${at} -> ${target} leaves the release` });
      if (at in m.files) ctx.addIssue({ code: 'custom', message: `${at} is both a file and a link` });
    }
  });
export type Manifest = z.infer<typeof manifestSchema>;

/** Whether a relative link target, resolved from the link's folder, stays inside the release. */
export function linkStaysInside(at: string, target: string): boolean {
  if (target.startsWith('/') || /[\0\\]/.test(target) || target === '') return false;
  const parts = at.split('/').slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '..') {
      if (parts.length === 0) return false;
      parts.pop();
    } else if (seg !== '.' && seg !== '') parts.push(seg);
  }
  return parts.length > 0;
}

/** An issue as a line: a bad path (a record key) says which path and why. */
export const issueLine = (i: z.core.$ZodIssue): string =>
  i.code === 'invalid_key' ? i.issues.map((k) => k.message).join(', ') : `${i.path.join('.')}: ${i.message}`;
