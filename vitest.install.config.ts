import { defineConfig } from 'vitest/config';

/**
 * `npm run test:install`: scripts/install.sh in a fresh Debian root made with debootstrap and
 * entered with chroot (test/install/*.chroot.ts). Root, a Debian mirror and a few minutes; not
 * part of `npm test`, which installs into a temporary root instead (test/install/install.test.ts).
 */
export default defineConfig({
  test: {
    include: ['test/install/**/*.chroot.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
