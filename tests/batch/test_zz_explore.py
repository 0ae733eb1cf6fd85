import asyncio, time, os, subprocess, sys
import aio_pika
from broker import registry, topology
from tests.batch.test_runs import own_vhost, worker_process, export, CLI, batch_env
SPY = "/tmp/pyspy/x/py_spy-0.4.3.data/scripts/py-spy"

async def test_explore(tmp_path, batch_env, own_vhost, simulator):
    env = {**batch_env, "PARTICULIER_AMQP_URL": own_vhost}
    connection = await aio_pika.connect(own_vhost)
    async with connection:
        await topology.apply(await connection.channel(), registry.providers())
    await export(env, tmp_path / "p.csv", 3000, 200_000)
    async with worker_process(env) as w:
        t = time.monotonic()
        p = await asyncio.create_subprocess_exec(*CLI, "batch", "run", str(tmp_path / "p.csv"), "--dataset", "cnav.quotient_familial", "--recipient", "13002526500013", "--out", str(tmp_path / "o.csv"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        await asyncio.sleep(3)
        spy = await asyncio.create_subprocess_exec(SPY, "record", "-p", str(w.pid), "-d", "10", "-f", "raw", "-o", "/tmp/worker.spy", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        spy2 = await asyncio.create_subprocess_exec(SPY, "record", "-p", str(os.getpid()), "-d", "10", "-f", "raw", "-o", "/tmp/test.spy", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        await spy.communicate(); await spy2.communicate()
        out, err = await p.communicate()
        print(time.monotonic() - t)
