import { CamelCasePlugin, Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { createPool, type Database, type Db } from '@qms/db';

// The plans of what the engine runs, nested statements (functions, triggers) included: a Kysely
// on a pool whose connections have auto_explain log every plan to the client as a notice.

export interface PlanNode {
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}
export interface LoggedPlan { 'Query Text': string; Plan: PlanNode }

/**
 * Has `client` log the plan of every statement it runs, nested ones too, into `plans`. The
 * settings are sent at once: queued before any statement the client's user sends after.
 */
export function explainPlans(client: pg.ClientBase, plans: LoggedPlan[]): Promise<unknown> {
  client.on('notice', (n) => {
    const text = String(n.message);
    if (text.includes('plan:')) plans.push(JSON.parse(text.slice(text.indexOf('{'))) as LoggedPlan);
  });
  return client.query(`LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;
    SET auto_explain.log_nested_statements = on; SET auto_explain.log_format = json; SET auto_explain.log_level = notice`);
}

/** A Kysely whose one connection logs every plan (explainPlans), for the engine's own queries. */
export function explainedDb(url: string): { db: Db; plans: LoggedPlan[] } {
  const plans: LoggedPlan[] = [];
  const pool = createPool(url, { max: 1 });
  pool.on('connect', (client) => void explainPlans(client, plans));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })] });
  return { db, plans };
}

/** Rows of `relation` (through `index`, when given) that a plan's scans read, returned or filtered out, over all loops. */
export function rowsRead(node: PlanNode, relation: string, index?: string): number {
  const own = node['Relation Name'] === relation && (!index || node['Index Name'] === index)
    ? ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * (node['Actual Loops'] ?? 1)
    : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsRead(child, relation, index), 0);
}

/** The indexes a plan reads, each once. */
export function indexesRead(node: PlanNode): string[] {
  const own = node['Index Name'] ? [node['Index Name']] : [];
  return [...new Set([...own, ...(node.Plans ?? []).flatMap(indexesRead)])];
}
