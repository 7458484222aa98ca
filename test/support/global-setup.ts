// vitest globalSetup: one throw-away PostgreSQL for the whole run, unless DATABASE_URL points at one.
import type { TestProject } from 'vitest/node';
import { startCluster, type PgCluster } from './pg-cluster.js';

let cluster: PgCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    cluster = await startCluster();
    url = cluster.url;
  }
  process.env.CREDITS_TEST_PG_URL = url;
  project.provide('pgUrl', url);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}
