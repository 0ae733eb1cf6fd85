import asyncio, time
from broker.client import Client
from broker.contract import Lane
from broker.population import Population

P = Population(1_000_000)

async def test_explore(worker, simulator):
    people = [P.person(i).params() for i in range(100_000, 102_000)]
    async with Client(lane=Lane.BULK) as client:
        gate = asyncio.Semaphore(256)
        async def one(p):
            async with gate:
                return await client.request("cnav.quotient_familial", p, recipient="13002526500013", timeout=120)
        t = time.monotonic()
        r = await asyncio.gather(*(one(p) for p in people))
        print("direct", len(people) / (time.monotonic() - t))
        t = time.monotonic()
        n = 0
        async for res in client.batch("cnav.quotient_familial", [P.person(i).params() for i in range(110_000, 112_000)], recipient="13002526500013", window=256):
            n += 1
        print("batch", n / (time.monotonic() - t))
