/*
 * support.c - the calling thread's last Win32 error (GetLastError and SetLastError of
 * ntbase.h), which needs thread-local storage; the rest of the target is inline.
 */
#include "alpcnt_support.h"

static __thread uint32_t last_error;

uint32_t GetLastError(void) { return last_error; }

void SetLastError(uint32_t error) { last_error = error; }
