import { sql, type Kysely } from 'kysely';
import { createOrReplace } from '../functions/function.ts';
import { qmsOutboxAlert, qmsOutboxRating, qmsOutboxTicketEvent } from '../functions/qms_outbox.ts';

// Notifications and webhooks (docs/notifications.md).
// - outbox: every fact that may notify someone, written by triggers in the transaction that
//   records it (db/src/functions/qms_outbox.ts). The relay turns each row into messages once.
// - notification: one message to one recipient on one channel, with its delivery state. Workers
//   in any process claim due ones (FOR UPDATE SKIP LOCKED, then a lease), and retry with
//   back-off until expires_at, after which the message is failed (the dead letters).
//   dedupe_key makes the relay's fan-out idempotent; id is the key the recipient sees.
// - notification_channel: a site's settings of each channel; secrets apart, never answered.
// - webhook, notification_recipient (leaders), notification_template (a site's own wording).
// - integration_key: the dossier system's key (a digest) for its inbound call.
// - ticket_contact, dossier_result: citizens' numbers, erased at erase_after (Decree 13/2023).
// - alert gains a complaint's case: owner, status, resolution note, and its history.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE outbox (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      seq bigint GENERATED ALWAYS AS IDENTITY,
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      type text NOT NULL,
      ticket_id uuid,
      source_id text NOT NULL,
      occurred_at timestamptz NOT NULL,
      data jsonb NOT NULL DEFAULT '{}',
      relayed_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX outbox_pending_idx ON outbox (seq) WHERE relayed_at IS NULL`.execute(db);
  await sql`CREATE INDEX outbox_relayed_idx ON outbox (relayed_at) WHERE relayed_at IS NOT NULL`.execute(db);

  await sql`
    CREATE TABLE notification_channel (
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('sms', 'email', 'zalo')),
      enabled boolean NOT NULL DEFAULT true,
      settings jsonb NOT NULL,
      secrets jsonb NOT NULL DEFAULT '{}',
      updated_at timestamptz NOT NULL DEFAULT now(),
      updated_by uuid REFERENCES app_user (id) ON DELETE SET NULL,
      PRIMARY KEY (site_id, kind)
    )`.execute(db);

  await sql`
    CREATE TABLE webhook (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      url text NOT NULL CHECK (url ~ '^https?://'),
      secret text NOT NULL CHECK (length(secret) >= 16),
      events text[] NOT NULL CHECK (cardinality(events) > 0),
      active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      created_by uuid REFERENCES app_user (id) ON DELETE SET NULL
    )`.execute(db);
  await sql`CREATE INDEX webhook_site_idx ON webhook (site_id) WHERE active`.execute(db);

  await sql`
    CREATE TABLE notification_recipient (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
      channel text NOT NULL CHECK (channel IN ('sms', 'email', 'zalo')),
      address text NOT NULL,
      lang text NOT NULL DEFAULT 'vi' CHECK (lang IN ('vi', 'en')),
      topics text[] NOT NULL CHECK (topics <@ ARRAY['complaint', 'wait', 'device']::text[]),
      active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX notification_recipient_site_idx ON notification_recipient (site_id) WHERE active`.execute(db);

  await sql`
    CREATE TABLE notification_template (
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      purpose text NOT NULL,
      lang text NOT NULL CHECK (lang IN ('vi', 'en')),
      subject text,
      body text NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (site_id, purpose, lang)
    )`.execute(db);

  await sql`
    CREATE TABLE notification (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      event_id uuid,
      dedupe_key text NOT NULL UNIQUE,
      channel text NOT NULL CHECK (channel IN ('sms', 'email', 'zalo', 'webhook')),
      purpose text NOT NULL,
      webhook_id uuid REFERENCES webhook (id) ON DELETE CASCADE,
      recipient_id uuid REFERENCES notification_recipient (id) ON DELETE SET NULL,
      ticket_id uuid,
      address text,
      lang text NOT NULL DEFAULT 'vi',
      subject text,
      body text,
      params jsonb NOT NULL DEFAULT '{}',
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      locked_until timestamptz,
      expires_at timestamptz NOT NULL,
      last_attempt_at timestamptz,
      last_error text,
      response_status integer,
      latency_ms integer,
      provider_id text,
      segments integer,
      cost numeric,
      erase_after timestamptz,
      created_at timestamptz NOT NULL,
      sent_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX notification_due_idx ON notification (next_attempt_at) WHERE status = 'pending'`.execute(db);
  await sql`CREATE INDEX notification_site_idx ON notification (site_id, created_at DESC)`.execute(db);
  await sql`CREATE INDEX notification_webhook_idx ON notification (webhook_id, created_at DESC) WHERE webhook_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX notification_erase_idx ON notification (erase_after) WHERE erase_after IS NOT NULL`.execute(db);

  await sql`
    CREATE TABLE ticket_contact (
      ticket_id uuid PRIMARY KEY REFERENCES ticket (id) ON DELETE CASCADE,
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      phone text NOT NULL CHECK (phone ~ '^84[0-9]{9,10}$'),
      channel text NOT NULL CHECK (channel IN ('sms', 'zalo')),
      lang text NOT NULL DEFAULT 'vi' CHECK (lang IN ('vi', 'en')),
      consented_at timestamptz NOT NULL,
      erase_after timestamptz NOT NULL,
      ahead_sent boolean NOT NULL DEFAULT false
    )`.execute(db);
  await sql`CREATE INDEX ticket_contact_erase_idx ON ticket_contact (erase_after)`.execute(db);

  await sql`
    CREATE TABLE dossier_result (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      dossier_code text NOT NULL,
      received_at timestamptz NOT NULL,
      erase_after timestamptz NOT NULL,
      UNIQUE (site_id, dossier_code)
    )`.execute(db);

  // the dossier system's key for POST /sites/:siteId/dossier-results: only its digest is kept
  await sql`
    CREATE TABLE integration_key (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      site_id uuid NOT NULL REFERENCES site (id) ON DELETE CASCADE,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
      key_hash text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz
    )`.execute(db);

  await sql`
    ALTER TABLE alert
      ADD COLUMN case_status text CHECK (case_status IN ('new', 'investigating', 'resolved')),
      ADD COLUMN case_owner_id uuid REFERENCES app_user (id) ON DELETE SET NULL,
      ADD COLUMN resolution_note text`.execute(db);
  await sql`
    CREATE TABLE alert_case_event (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      alert_id uuid NOT NULL REFERENCES alert (id) ON DELETE CASCADE,
      at timestamptz NOT NULL,
      by_id uuid REFERENCES app_user (id) ON DELETE SET NULL,
      status text NOT NULL,
      owner_id uuid REFERENCES app_user (id) ON DELETE SET NULL,
      note text
    )`.execute(db);
  await sql`CREATE INDEX alert_case_event_alert_idx ON alert_case_event (alert_id, at)`.execute(db);

  for (const fn of [qmsOutboxTicketEvent, qmsOutboxRating, qmsOutboxAlert]) await createOrReplace(db, fn);
  await sql`CREATE TRIGGER ticket_event_outbox AFTER INSERT ON ticket_event FOR EACH ROW EXECUTE FUNCTION qms_outbox_ticket_event()`.execute(db);
  await sql`CREATE TRIGGER rating_outbox AFTER INSERT ON rating FOR EACH ROW EXECUTE FUNCTION qms_outbox_rating()`.execute(db);
  await sql`CREATE TRIGGER alert_outbox AFTER INSERT ON alert FOR EACH ROW EXECUTE FUNCTION qms_outbox_alert()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER alert_outbox ON alert`.execute(db);
  await sql`DROP TRIGGER rating_outbox ON rating`.execute(db);
  await sql`DROP TRIGGER ticket_event_outbox ON ticket_event`.execute(db);
  await sql`DROP FUNCTION qms_outbox_alert(), qms_outbox_rating(), qms_outbox_ticket_event()`.execute(db);
  await sql`DROP TABLE alert_case_event`.execute(db);
  await sql`ALTER TABLE alert DROP COLUMN case_status, DROP COLUMN case_owner_id, DROP COLUMN resolution_note`.execute(db);
  await sql`DROP TABLE integration_key, dossier_result, ticket_contact, notification, notification_template, notification_recipient, webhook, notification_channel, outbox`.execute(db);
}
