#!/usr/bin/env python3
"""A TCP proxy on loopback that delays every chunk by a fixed time in each
direction, to measure how a client behaves against an endpoint with network
latency (a local S3 endpoint answers in about a millisecond; real S3 in tens).

    python3 latency_proxy.py LISTEN_PORT TARGET_HOST:TARGET_PORT DELAY_MS

Used by BENCHMARKS.md ("S3 store"): the CLI's S3 backfill against moto
through a 10 ms each way proxy."""
import asyncio
import sys


async def pipe(reader, writer, delay):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main():
    port, target, delay_ms = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    host, tport = target.rsplit(":", 1)
    delay = delay_ms / 1000

    async def handle(cr, cw):
        sr, sw = await asyncio.open_connection(host, int(tport))
        await asyncio.gather(pipe(cr, sw, delay), pipe(sr, cw, delay))

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


asyncio.run(main())
