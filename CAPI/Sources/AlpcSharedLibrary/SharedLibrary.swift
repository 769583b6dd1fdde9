// libalpc: the exports of the ALPCNT module (the NtAlpc* functions and the NT basics that
// alpc.h and ntbase.h declare), linked into one shared library for C and C++ programs.
@_exported import ALPCNT
