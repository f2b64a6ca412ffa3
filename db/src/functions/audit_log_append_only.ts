import type { DbFunction } from './function.ts';

/**
 * The trigger that keeps audit_log append-only: it is evidence (criticism investigations), so the
 * database refuses to rewrite or remove it, whoever asks. One exception: deleting an account or a
 * site sets the row's actor_id or site_id to null (the foreign keys' ON DELETE SET NULL), which
 * PostgreSQL does as an UPDATE from inside its own referential trigger (pg_trigger_depth() > 1).
 * That update may null those two columns and change nothing else: the actor's name stays.
 */
export const auditLogAppendOnly: DbFunction = {
  name: 'audit_log_append_only',
  signature: 'audit_log_append_only()',
  returns: 'trigger',
  language: 'plpgsql',
  body: `
    BEGIN
      IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
        IF (NEW.actor_id IS NULL OR NEW.actor_id = OLD.actor_id)
          AND (NEW.site_id IS NULL OR NEW.site_id = OLD.site_id)
          AND (NEW.id, NEW.at, NEW.actor_name, NEW.actor_kind, NEW.action, NEW.target_type, NEW.target_id, NEW.changes, NEW.ip)
            IS NOT DISTINCT FROM (OLD.id, OLD.at, OLD.actor_name, OLD.actor_kind, OLD.action, OLD.target_type, OLD.target_id, OLD.changes, OLD.ip)
        THEN
          RETURN NEW;
        END IF;
      END IF;
      RAISE EXCEPTION 'audit_log is append-only';
    END `,
};
