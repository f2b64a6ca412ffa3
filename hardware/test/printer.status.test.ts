import { describe, expect, it } from 'vitest';
import { StatusReplyQueue, isStatusByte, parseStatus, requestStatus } from '../src/printer/printer.status.ts';

describe('DLE EOT replies', () => {
  it('tells status bytes from other bytes by their fixed bits', () => {
    expect(isStatusByte(0x12)).toBe(true);
    expect(isStatusByte(0x16)).toBe(true); // drawer pin high
    expect(isStatusByte(0x7e)).toBe(true);
    expect(isStatusByte(0x10)).toBe(false); // first byte of an Automatic Status Back block
    expect(isStatusByte(0x92)).toBe(false);
    expect(isStatusByte(0x13)).toBe(false);
    expect(isStatusByte(0x00)).toBe(false);
  });

  it('reads a healthy printer', () => {
    expect(parseStatus({ printer: 0x12, offlineCause: 0x12, paper: 0x12 })).toEqual({
      online: true,
      paperOut: false,
      paperLow: false,
      coverOpen: false,
      answered: true,
    });
  });

  it('reads paper out from the paper sensor and from the offline cause', () => {
    const fromSensor = parseStatus({ printer: 0x1a, offlineCause: 0x12, paper: 0x72 });
    expect(fromSensor).toMatchObject({ online: false, paperOut: true, paperLow: true, error: 'out of paper' });
    const fromCause = parseStatus({ printer: 0x1a, offlineCause: 0x32 });
    expect(fromCause).toMatchObject({ online: false, paperOut: true });
  });

  it('reads paper near its end as low but still printing', () => {
    expect(parseStatus({ printer: 0x12, offlineCause: 0x12, paper: 0x1e })).toMatchObject({ online: true, paperOut: false, paperLow: true });
  });

  it('reads an open cover and a printer error', () => {
    expect(parseStatus({ printer: 0x1a, offlineCause: 0x16, paper: 0x12 })).toMatchObject({ online: false, paperOut: false, coverOpen: true, error: 'cover open' });
    expect(parseStatus({ printer: 0x1a, offlineCause: 0x52 }).error).toMatch(/reports an error/);
  });

  it('asks a printer that never answers only once, and says it did not answer', async () => {
    const asked: number[] = [];
    const status = await requestStatus(async (request) => {
      asked.push(request[2]!);
      return null;
    }, 10);
    expect(asked).toEqual([1]);
    expect(status).toEqual({ online: true, paperOut: false, answered: false });
  });

  it('asks for printer status, offline cause and paper sensor in turn', async () => {
    const answers: Record<number, number> = { 1: 0x1a, 2: 0x32, 4: 0x72 };
    const asked: number[] = [];
    const status = await requestStatus(async (request) => {
      expect(Array.from(request.subarray(0, 2))).toEqual([0x10, 0x04]);
      asked.push(request[2]!);
      return answers[request[2]!] ?? null;
    }, 10);
    expect(asked).toEqual([1, 2, 4]);
    expect(status).toMatchObject({ online: false, paperOut: true, answered: true });
  });
});

describe('StatusReplyQueue', () => {
  it('hands out status bytes in order and drops the rest', async () => {
    const queue = new StatusReplyQueue();
    queue.push(Uint8Array.of(0x00, 0x12, 0x10, 0x0f, 0x1a));
    expect(await queue.next(10)).toBe(0x12);
    expect(await queue.next(10)).toBe(0x1a);
    expect(await queue.next(10)).toBeNull();
  });

  it('wakes a waiting reader, and forgets stale bytes on clear', async () => {
    const queue = new StatusReplyQueue();
    queue.push(Uint8Array.of(0x12));
    queue.clear();
    const waiting = queue.next(1000);
    setTimeout(() => queue.push(Uint8Array.of(0x7e)), 5);
    expect(await waiting).toBe(0x7e);
  });
});
