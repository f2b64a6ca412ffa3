import type { Counter, CounterQueue, QueueSnapshot, RecentCall, ServiceQueue, Ticket, TicketCalled } from '@qms/protocol';
import { isAtCounter } from '@qms/protocol/lifecycle';
import type { QmsSocket } from '@qms/protocol/client';

export type ConnectionState = 'connecting' | 'online' | 'offline' | 'unauthorized';

/**
 * The live state of one site, kept by a socket: every (re)connect replaces it with the
 * server's snapshot, events in between update it. Screens read its fields; nothing else
 * writes them.
 */
export class LiveQueue {
  connection = $state<ConnectionState>('connecting');
  snapshot = $state<QueueSnapshot | null>(null);
  /** calls seen live since the last snapshot, newest first (the display announces these) */
  lastCall = $state<TicketCalled | null>(null);

  private listeners = new Set<(call: TicketCalled) => void>();

  constructor(readonly socket: QmsSocket, private readonly recentLimit = 8) {
    socket.on('connect', () => (this.connection = 'online'));
    socket.on('disconnect', () => (this.connection = 'offline'));
    socket.on('connect_error', (error) => {
      this.connection = error.message === 'UNAUTHENTICATED' ? 'unauthorized' : 'offline';
    });
    socket.on('queue:snapshot', (snapshot) => {
      this.snapshot = snapshot;
      this.connection = 'online';
    });
    socket.on('queue:stats', ({ services }) => this.mergeServices(services));
    socket.on('ticket:called', (call) => this.onCalled(call));
    socket.on('ticket:updated', ({ ticket }) => this.onTicket(ticket));
    socket.on('counter:updated', ({ counter }) => this.onCounter(counter));
  }

  /** Live calls only (never the ones in a snapshot), so a reconnect does not announce old calls again. */
  onCall(listener: (call: TicketCalled) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get services(): ServiceQueue[] {
    return this.snapshot?.services ?? [];
  }

  get counters(): CounterQueue[] {
    return this.snapshot?.counters ?? [];
  }

  get recentCalls(): RecentCall[] {
    return this.snapshot?.recentCalls ?? [];
  }

  service(serviceId: string): ServiceQueue | undefined {
    return this.services.find((s) => s.serviceId === serviceId);
  }

  close(): void {
    this.socket.close();
  }

  private mergeServices(services: ServiceQueue[]) {
    if (!this.snapshot) return;
    const byId = new Map(services.map((s) => [s.serviceId, s]));
    this.snapshot.services = this.snapshot.services.map((s) => byId.get(s.serviceId) ?? s);
  }

  private onCalled(call: TicketCalled) {
    if (this.snapshot) {
      const entry: RecentCall = { ticket: call.ticket, counter: call.counter, at: call.at };
      this.snapshot.recentCalls = [entry, ...this.snapshot.recentCalls].slice(0, this.recentLimit);
      this.setCounterTicket(call.counter.id, call.ticket, call.at);
    }
    this.lastCall = call;
    for (const listener of this.listeners) listener(call);
  }

  private onTicket(ticket: Ticket) {
    if (!this.snapshot) return;
    for (const c of this.snapshot.counters) {
      if (c.ticket?.id !== ticket.id) continue;
      if (isAtCounter(ticket.status)) c.ticket = ticket;
      else [c.ticket, c.lastCallAt] = [undefined, undefined];
    }
  }

  private onCounter(counter: Counter) {
    if (!this.snapshot) return;
    const current = this.snapshot.counters.find((c) => c.counterId === counter.id);
    if (!current) return;
    current.status = counter.status;
    current.staff = counter.staff;
    current.serviceIds = counter.serviceIds;
  }

  private setCounterTicket(counterId: string, ticket: Ticket, lastCallAt: string) {
    const counter = this.snapshot?.counters.find((c) => c.counterId === counterId);
    if (counter) [counter.ticket, counter.lastCallAt] = [ticket, lastCallAt];
  }
}
