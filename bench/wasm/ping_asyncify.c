/* wasm/ping: 1M messages between two tasks over unbuffered channels, 500k
 * each way (main sends i on `ping`, the other task answers i + 1 on `pong`),
 * the tasks made resumable with binaryen's Asyncify (`wasm-opt --asyncify`).
 * Freestanding wasm32, no libc; driver.mjs (mode "ping") calls ping_run.
 *
 * A task blocks in a channel operation by calling suspend, which unwinds its
 * stack into the task's own asyncify data buffer, back to the scheduler
 * (ping_run). The scheduler resumes a task by starting a rewind from its
 * buffer and calling its body again: the calls are replayed down to suspend,
 * which stops the rewind, and the task goes on. A channel is a rendezvous:
 * the first of sender and receiver to arrive waits for the other. */
typedef unsigned long long u64;
typedef unsigned int u32;

__attribute__((import_module("asyncify"), import_name("start_unwind"))) void asyncify_start_unwind(void *);
__attribute__((import_module("asyncify"), import_name("stop_unwind"))) void asyncify_stop_unwind(void);
__attribute__((import_module("asyncify"), import_name("start_rewind"))) void asyncify_start_rewind(void *);
__attribute__((import_module("asyncify"), import_name("stop_rewind"))) void asyncify_stop_rewind(void);

struct asyncify_data {
    u32 cur, end;
    u64 buf[32];
};

struct task {
    struct asyncify_data data; /* its stack while it is suspended */
    int started;
    u64 slot; /* the value a sender handed to it while it waited in recv */
};

struct chan {
    struct task *sender, *receiver; /* the one waiting, if any */
    u64 value;                      /* the waiting sender's value */
};

static struct task tasks[2]; /* 0: main, 1: the ponger */
static struct task *current;
static struct task *runq[4]; /* runnable tasks, first in first out */
static u32 runq_head, runq_len;
static int suspended, rewinding;
static struct chan ping, pong;
static u64 rounds, result;

static void wake(struct task *t) {
    runq[(runq_head + runq_len++) % 4] = t;
}

/* noinline: Asyncify instruments the callers of a function that starts an
 * unwind, not that function itself, so it must stay a call of its own. */
__attribute__((noinline)) static void suspend(void) {
    if (rewinding) {
        /* Replayed by the rewind: the task is back where it blocked. */
        asyncify_stop_rewind();
        rewinding = 0;
        return;
    }
    suspended = 1;
    current->data.cur = (u32)current->data.buf;
    current->data.end = (u32)(current->data.buf + 32);
    asyncify_start_unwind(&current->data);
}

static void chan_send(struct chan *c, u64 v) {
    if (c->receiver) {
        struct task *r = c->receiver;
        c->receiver = 0;
        r->slot = v;
        wake(r);
        return;
    }
    c->value = v;
    c->sender = current;
    suspend(); /* until a receiver takes the value (and wakes us) */
}

static u64 chan_recv(struct chan *c) {
    if (c->sender) {
        struct task *s = c->sender;
        c->sender = 0;
        wake(s);
        return c->value;
    }
    c->receiver = current;
    suspend(); /* until a sender hands us a value */
    return current->slot;
}

/* The tasks' bodies; noinline keeps them out of the scheduler, which
 * Asyncify leaves uninstrumented. */
__attribute__((noinline)) static void ponger(void) {
    for (u64 n = 0; n < rounds; n++) {
        u64 v = chan_recv(&ping);
        chan_send(&pong, v + 1);
    }
}

__attribute__((noinline)) static void main_task(void) {
    u64 sum = 0;
    for (u64 i = 0; i < rounds; i++) {
        chan_send(&ping, i);
        sum += chan_recv(&pong);
    }
    result = sum;
}

/* The scheduler: runs main and the ponger until both are done; returns
 * main's sum. */
__attribute__((export_name("ping_run"))) u64 ping_run(u64 n) {
    rounds = n;
    wake(&tasks[0]);
    wake(&tasks[1]);
    while (runq_len) {
        struct task *t = runq[runq_head];
        runq_head = (runq_head + 1) % 4;
        runq_len--;
        current = t;
        if (t->started) {
            rewinding = 1;
            asyncify_start_rewind(&t->data);
        }
        t->started = 1;
        if (t == &tasks[0])
            main_task();
        else
            ponger();
        if (suspended) {
            asyncify_stop_unwind();
            suspended = 0;
        }
    }
    return result;
}
