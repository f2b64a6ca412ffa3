import { sql, type Kysely } from 'kysely';

// Frozen in time: this file never imports application code.
// Timestamps are timestamptz(3): the API promises millisecond precision.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS pgcrypto`.execute(db);

  await db.schema
    .createTable('site')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull().defaultTo('commune').check(sql`level in ('province', 'commune')`))
    .addColumn('timezone', 'text', (c) => c.notNull().defaultTo('Asia/Ho_Chi_Minh'))
    // 'longest_wait': a counter takes the longest-waiting eligible ticket across its services;
    // 'strict': it empties its services in their listed order.
    .addColumn('service_order', 'text', (c) => c.notNull().defaultTo('longest_wait').check(sql`service_order in ('longest_wait', 'strict')`))
    // null: priority tickets always first. n: after a priority call a counter calls up to n
    // normal tickets before the next priority one (e.g. 2 -> P N N P N N), so nobody starves.
    .addColumn('priority_ratio', 'integer', (c) => c.check(sql`priority_ratio is null or priority_ratio > 0`))
    .addColumn('transfer_to_front', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('code_digits', 'integer', (c) => c.notNull().defaultTo(3).check(sql`code_digits between 1 and 6`))
    .addColumn('settings', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('opening_hours')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id').onDelete('cascade'))
    // ISO weekday: 1 = Monday ... 7 = Sunday
    .addColumn('weekday', 'smallint', (c) => c.notNull().check(sql`weekday between 1 and 7`))
    .addColumn('opens', 'time', (c) => c.notNull())
    .addColumn('closes', 'time', (c) => c.notNull())
    .addCheckConstraint('opening_hours_order', sql`opens < closes`)
    .execute();
  await db.schema.createIndex('opening_hours_site_idx').on('opening_hours').columns(['site_id', 'weekday']).execute();

  await db.schema
    .createTable('holiday')
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id').onDelete('cascade'))
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
    .addPrimaryKeyConstraint('holiday_pk', ['site_id', 'date'])
    .execute();

  await db.schema
    .createTable('priority_group')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id').onDelete('cascade'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'jsonb', (c) => c.notNull())
    // lower rank is called first; tickets without priority come after every rank
    .addColumn('rank', 'integer', (c) => c.notNull().defaultTo(1).check(sql`rank > 0`))
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addUniqueConstraint('priority_group_site_code', ['site_id', 'code'])
    .execute();

  await db.schema
    .createTable('service')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id').onDelete('cascade'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('name', 'jsonb', (c) => c.notNull())
    .addColumn('target_wait_seconds', 'integer', (c) => c.notNull().defaultTo(900))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addUniqueConstraint('service_site_code', ['site_id', 'code'])
    .execute();

  await db.schema
    .createTable('procedure')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('service_id', 'uuid', (c) => c.notNull().references('service.id').onDelete('cascade'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('name', 'jsonb', (c) => c.notNull())
    .addColumn('processing_days', 'integer')
    .addUniqueConstraint('procedure_service_code', ['service_id', 'code'])
    .execute();

  await db.schema
    .createTable('app_user')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'manager', 'staff')`))
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('site_membership')
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('app_user.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('site_membership_pk', ['site_id', 'user_id'])
    .execute();
  await db.schema.createIndex('site_membership_user_idx').on('site_membership').column('user_id').execute();

  await db.schema
    .createTable('user_session')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('app_user.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', sql`timestamptz(3)`, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('counter')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id').onDelete('cascade'))
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('closed').check(sql`status in ('closed', 'open', 'paused')`))
    .addColumn('staff_id', 'uuid', (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('pause_reason', 'text')
    .addColumn('status_changed_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    // normal tickets called since the last priority one (ratio rule); null until one is called
    .addColumn('normal_streak', 'integer')
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addUniqueConstraint('counter_site_number', ['site_id', 'number'])
    .execute();

  await db.schema
    .createTable('counter_service')
    .addColumn('counter_id', 'uuid', (c) => c.notNull().references('counter.id').onDelete('cascade'))
    .addColumn('service_id', 'uuid', (c) => c.notNull().references('service.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('counter_service_pk', ['counter_id', 'service_id'])
    .execute();
  await db.schema.createIndex('counter_service_service_idx').on('counter_service').column('service_id').execute();

  await db.schema
    .createTable('counter_event')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('counter_id', 'uuid', (c) => c.notNull().references('counter.id').onDelete('cascade'))
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('opened', 'paused', 'resumed', 'closed')`))
    .addColumn('staff_id', 'uuid', (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('reason', 'text')
    .addColumn('at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .execute();
  await db.schema.createIndex('counter_event_counter_idx').on('counter_event').columns(['counter_id', 'at']).execute();

  await db.schema
    .createTable('device')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('kiosk', 'display', 'counter', 'rating')`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('counter_id', 'uuid', (c) => c.references('counter.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.unique())
    .addColumn('pairing_code_hash', 'text')
    .addColumn('pairing_expires_at', sql`timestamptz(3)`)
    // zone of a display (counterIds / serviceIds), printer of a kiosk, ...
    .addColumn('settings', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', sql`timestamptz(3)`)
    .addColumn('revoked_at', sql`timestamptz(3)`)
    .addCheckConstraint('device_counter_kind', sql`kind not in ('counter', 'rating') or counter_id is not null`)
    .execute();
  await db.schema.createIndex('device_site_idx').on('device').column('site_id').execute();

  // One row per site, service and local day: the numbering source. Incremented inside the
  // issuing transaction, so a rolled-back issue gives its number back (no gaps).
  await db.schema
    .createTable('daily_sequence')
    .addColumn('service_id', 'uuid', (c) => c.notNull().references('service.id').onDelete('cascade'))
    .addColumn('local_date', 'date', (c) => c.notNull())
    .addColumn('last_number', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('daily_sequence_pk', ['service_id', 'local_date'])
    .execute();

  await db.schema
    .createTable('ticket')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('public_id', 'text', (c) => c.notNull().unique())
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id').onDelete('cascade'))
    // the service it was issued in (its number belongs to it) and the one it waits in now
    .addColumn('issued_service_id', 'uuid', (c) => c.notNull().references('service.id'))
    .addColumn('service_id', 'uuid', (c) => c.notNull().references('service.id'))
    .addColumn('local_date', 'date', (c) => c.notNull())
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('waiting', 'called', 'serving', 'done', 'no_show', 'transferred', 'cancelled')`))
    .addColumn('priority', 'text', (c) => c.notNull().defaultTo('none'))
    // rank of the priority group at issue; null for no priority (called after every rank)
    .addColumn('priority_rank', 'integer')
    .addColumn('lang', 'text', (c) => c.notNull().defaultTo('vi'))
    .addColumn('channel', 'text', (c) => c.notNull().defaultTo('kiosk'))
    .addColumn('device_id', 'uuid', (c) => c.references('device.id').onDelete('set null'))
    .addColumn('counter_id', 'uuid', (c) => c.references('counter.id').onDelete('set null'))
    .addColumn('staff_id', 'uuid', (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('issued_at', sql`timestamptz(3)`, (c) => c.notNull())
    // when it entered the queue it waits in now (issue, or transfer)
    .addColumn('queued_at', sql`timestamptz(3)`, (c) => c.notNull())
    .addColumn('called_at', sql`timestamptz(3)`)
    .addColumn('started_at', sql`timestamptz(3)`)
    .addColumn('finished_at', sql`timestamptz(3)`)
    .addColumn('estimated_wait_seconds', 'double precision')
    .addColumn('position_at_issue', 'integer')
    .addColumn('transfer_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addUniqueConstraint('ticket_number_per_day', ['issued_service_id', 'local_date', 'number'])
    .execute();
  await sql`CREATE INDEX ticket_waiting_idx ON ticket (service_id, priority_rank, queued_at) WHERE status = 'waiting'`.execute(db);
  // recent service times per service, for the wait estimate
  await sql`CREATE INDEX ticket_done_idx ON ticket (service_id, finished_at DESC) WHERE status = 'done'`.execute(db);
  await db.schema.createIndex('ticket_site_issued_idx').on('ticket').columns(['site_id', 'issued_at']).execute();
  await sql`CREATE INDEX ticket_counter_active_idx ON ticket (counter_id) WHERE status in ('called', 'serving')`.execute(db);

  await db.schema
    .createTable('ticket_event')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('ticket_id', 'uuid', (c) => c.notNull().references('ticket.id').onDelete('cascade'))
    .addColumn('site_id', 'uuid', (c) => c.notNull())
    .addColumn('type', 'text', (c) =>
      c.notNull().check(sql`type in ('issued', 'called', 'recalled', 'started', 'finished', 'no_show', 'transferred', 'cancelled')`))
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('service_id', 'uuid', (c) => c.notNull())
    .addColumn('counter_id', 'uuid')
    .addColumn('staff_id', 'uuid')
    .addColumn('device_id', 'uuid')
    .addColumn('at', sql`timestamptz(3)`, (c) => c.notNull())
    .addColumn('data', 'jsonb')
    .execute();
  await db.schema.createIndex('ticket_event_ticket_idx').on('ticket_event').columns(['ticket_id', 'id']).execute();
  await db.schema.createIndex('ticket_event_site_at_idx').on('ticket_event').columns(['site_id', 'at']).execute();
  // append-only: history is evidence, so the database refuses to rewrite it
  await sql`
    CREATE FUNCTION ticket_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'ticket_event is append-only';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER ticket_event_no_update BEFORE UPDATE OR DELETE ON ticket_event
    FOR EACH STATEMENT EXECUTE FUNCTION ticket_event_append_only()`.execute(db);

  await db.schema
    .createTable('rating')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('ticket_id', 'uuid', (c) => c.notNull().unique().references('ticket.id').onDelete('cascade'))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id').onDelete('cascade'))
    .addColumn('counter_id', 'uuid', (c) => c.references('counter.id').onDelete('set null'))
    .addColumn('staff_id', 'uuid', (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('score', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('comment', 'text')
    .addColumn('channel', 'text', (c) => c.notNull().defaultTo('tablet'))
    .addColumn('device_id', 'uuid', (c) => c.references('device.id').onDelete('set null'))
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('rating_site_created_idx').on('rating').columns(['site_id', 'created_at']).execute();

  await db.schema
    .createTable('alert')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('site_id', 'uuid', (c) => c.notNull().references('site.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('counter_id', 'uuid', (c) => c.references('counter.id').onDelete('set null'))
    .addColumn('staff_id', 'uuid', (c) => c.references('app_user.id').onDelete('set null'))
    .addColumn('ticket_id', 'uuid', (c) => c.references('ticket.id').onDelete('set null'))
    .addColumn('device_id', 'uuid', (c) => c.references('device.id').onDelete('set null'))
    .addColumn('data', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('acknowledged_at', sql`timestamptz(3)`)
    .addColumn('acknowledged_by', 'uuid', (c) => c.references('app_user.id').onDelete('set null'))
    .execute();
  await db.schema.createIndex('alert_site_created_idx').on('alert').columns(['site_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'alert', 'rating', 'ticket_event', 'ticket', 'daily_sequence', 'device', 'counter_event',
    'counter_service', 'counter', 'user_session', 'site_membership', 'app_user', 'procedure',
    'service', 'priority_group', 'holiday', 'opening_hours', 'site',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  await sql`DROP FUNCTION IF EXISTS ticket_event_append_only()`.execute(db);
}
