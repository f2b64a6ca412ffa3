import type { DbFunction } from './function.ts';

/** A dossier code recorded at a counter: dossier:recorded (see qms_outbox.ts for why a trigger). */
export const qmsOutboxDossier: DbFunction = {
  name: 'qms_outbox_dossier',
  signature: 'qms_outbox_dossier()',
  returns: 'trigger',
  language: 'plpgsql',
  body: `
    BEGIN
      IF NOT qms_outbox_wanted(NEW.site_id, 'dossier:recorded') THEN RETURN NULL; END IF;
      INSERT INTO outbox (site_id, type, ticket_id, source_id, occurred_at, data)
      VALUES (NEW.site_id, 'dossier:recorded', NEW.ticket_id, NEW.id::text, NEW.recorded_at,
        jsonb_build_object('dossierCode', NEW.dossier_code, 'direction', NEW.direction, 'staffId', NEW.recorded_by));
      RETURN NULL;
    END `,
};
