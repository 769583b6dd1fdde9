/*
 * sys_socket.h - Unix-socket helpers for the control plane (placeholder until written).
 */
#ifndef ALPC_SYS_SOCKET_H
#define ALPC_SYS_SOCKET_H
#endif
