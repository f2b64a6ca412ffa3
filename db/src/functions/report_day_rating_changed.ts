import type { DbFunction } from './function.ts';

/**
 * The rating trigger of the report facts (server/src/reports/README.md, "Report facts"): a rating
 * given, changed or removed after its day was built drops the day and its stints, and the day is
 * read raw until rebuilt. So a site-day has stint rows exactly when it has its report_day row,
 * and a report reads the stints of its range without checking their days one by one. The lock
 * orders it with a build (which holds SHARE ROW EXCLUSIVE while it reads and writes): the DELETE,
 * a statement of its own, sees a day built while it waited.
 */
export const reportDayRatingChanged: DbFunction = {
  name: 'report_day_rating_changed',
  signature: 'report_day_rating_changed()',
  returns: 'trigger',
  language: 'plpgsql',
  body: `
    DECLARE
      t_id uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.ticket_id ELSE NEW.ticket_id END;
    BEGIN
      LOCK TABLE report_day IN ROW EXCLUSIVE MODE;
      WITH dropped AS (
        DELETE FROM report_day d USING ticket t
        WHERE t.id = t_id AND d.site_id = t.site_id AND t.issued_at >= d.from_at AND t.issued_at < d.to_at
        RETURNING d.site_id, d.local_date
      )
      DELETE FROM report_stint f USING dropped
      WHERE f.site_id = dropped.site_id AND f.local_date = dropped.local_date;
      RETURN NULL;
    END `,
};
