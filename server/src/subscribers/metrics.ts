import { Counter, Histogram } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { Subscriber } from '../app/dispatcher.ts';

/** Tickets issued and called per site and service, and how long a call took to leave (GET /metrics). */
export function metricsSubscriber(app: FastifyInstance): Subscriber {
  const { register, clock } = app.metrics;
  const labelNames = ['site', 'service'] as const;
  const issued = new Counter({ name: 'qms_tickets_issued_total', help: 'Tickets issued', labelNames, registers: [register] });
  const called = new Counter({ name: 'qms_tickets_called_total', help: 'Tickets called (recalls not counted)', labelNames, registers: [register] });
  const sent = new Histogram({
    name: 'qms_call_to_send_seconds',
    help: 'From the moment a call is committed to its event leaving this server for the wall displays of its site',
    buckets: app.metrics.latencyBuckets, registers: [register],
  });
  return {
    name: 'metrics',
    handle(events) {
      for (const e of events) {
        if (e.name === 'ticket:issued') issued.inc({ site: e.siteId, service: e.payload.ticket.serviceId });
        else if (e.name === 'ticket:called' && !e.payload.recall) {
          const { ticket } = e.payload;
          called.inc({ site: e.siteId, service: ticket.serviceId });
          // dispatched after the realtime subscriber: the event has left for the displays
          if (ticket.calledAt) sent.observe(Math.max(0, (clock().getTime() - Date.parse(ticket.calledAt)) / 1000));
        }
      }
    },
  };
}
