/*
 * support.c - the calling thread's last Win32 error (GetLastError and SetLastError of
 * ntbase.h) and its port cache (alpcnt_support.h), which need thread-local storage; the rest
 * of the target is inline.
 */
#include "alpcnt_support.h"

#include <pthread.h>

static __thread uint32_t last_error;

uint32_t GetLastError(void) { return last_error; }

void SetLastError(uint32_t error) { last_error = error; }

__thread __attribute__((tls_model("initial-exec"))) struct alpcnt_port_cache alpcnt__port_cache;
uint64_t alpcnt__handle_epoch = 1;

/* The key whose destructor releases a thread's cached ports when the thread exits (its value
 * is the thread's cache while it holds any), and how to release one. */
static pthread_key_t cache_key;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;
static void (*release_port)(void *);

/* The most objects one entry holds: its port and its two wrappers. */
#define HELD_PER_ENTRY 3

/* Empties entry index, adding what it held to those to release. */
static void empty_entry(struct alpcnt_port_cache *cache, int index, void **released, int *count) {
    void *held[HELD_PER_ENTRY] = {cache->port[index], cache->wrapper[index][0], cache->wrapper[index][1]};
    for (int object = 0; object < HELD_PER_ENTRY; object++)
        if (held[object] != NULL) released[(*count)++] = held[object];
    cache->handle[index] = NULL;
    cache->port[index] = NULL;
    cache->wrapper[index][0] = NULL;
    cache->wrapper[index][1] = NULL;
}

/* Releases what empty_entry collected, once the cache is consistent again (a release may run
 * code that looks at it). */
static void release_all(void **released, int count, void (*release)(void *)) {
    for (int index = 0; index < count; index++)
        if (release != NULL) release(released[index]);
}

static void release_at_exit(void *value) {
    struct alpcnt_port_cache *cache = value;
    void *released[ALPCNT_PORT_CACHE_ENTRIES * HELD_PER_ENTRY];
    int count = 0;
    for (int index = 0; index < ALPCNT_PORT_CACHE_ENTRIES; index++) empty_entry(cache, index, released, &count);
    release_all(released, count, __atomic_load_n(&release_port, __ATOMIC_RELAXED));
}

static void make_cache_key(void) { pthread_key_create(&cache_key, release_at_exit); }

int alpcnt_cache_port(void *handle, void *port, uint64_t epoch, void (*release)(void *)) {
    struct alpcnt_port_cache *cache = &alpcnt__port_cache;
    void *released[ALPCNT_PORT_CACHE_ENTRIES * HELD_PER_ENTRY];
    int count = 0;
    pthread_once(&cache_key_once, make_cache_key);
    __atomic_store_n(&release_port, release, __ATOMIC_RELAXED);
    pthread_setspecific(cache_key, cache);
    if (cache->epoch != epoch) {
        for (int index = 0; index < ALPCNT_PORT_CACHE_ENTRIES; index++) empty_entry(cache, index, released, &count);
        cache->epoch = epoch;
    }
    int slot = -1;
    for (int index = 0; index < ALPCNT_PORT_CACHE_ENTRIES && slot < 0; index++)
        if (cache->handle[index] == handle || cache->handle[index] == NULL) slot = index;
    if (slot < 0) {
        slot = (int)(cache->next % ALPCNT_PORT_CACHE_ENTRIES);
        cache->next += 1;
    }
    empty_entry(cache, slot, released, &count);
    cache->handle[slot] = handle;
    cache->port[slot] = port;
    release_all(released, count, release);
    return slot;
}

void alpcnt_uncache_port(void *handle, void (*release)(void *)) {
    struct alpcnt_port_cache *cache = &alpcnt__port_cache;
    void *released[ALPCNT_PORT_CACHE_ENTRIES * HELD_PER_ENTRY];
    int count = 0;
    if (handle == NULL) return;
    for (int index = 0; index < ALPCNT_PORT_CACHE_ENTRIES; index++)
        if (cache->handle[index] == handle) empty_entry(cache, index, released, &count);
    release_all(released, count, release);
}
