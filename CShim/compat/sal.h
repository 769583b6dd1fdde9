/*
 * sal.h (SwiftALPC stand-in) - Microsoft's source annotations, which mean nothing to gcc and
 * clang: each expands to nothing.
 */
#ifndef ALPC_COMPAT_SAL_H
#define ALPC_COMPAT_SAL_H

#define _In_
#define _In_opt_
#define _Out_
#define _Out_opt_
#define _Inout_
#define _Inout_opt_
#define _Reserved_
#define _Outptr_
#define _Outptr_opt_
#define _In_z_
#define _In_opt_z_
#define _Must_inspect_result_
#define _Check_return_
#define _Success_(expr)
#define _When_(expr, annotation)
#define _In_reads_(size)
#define _In_reads_opt_(size)
#define _In_reads_bytes_(size)
#define _In_reads_bytes_opt_(size)
#define _Out_writes_(size)
#define _Out_writes_opt_(size)
#define _Out_writes_bytes_(size)
#define _Out_writes_bytes_opt_(size)
#define _Out_writes_bytes_to_(size, count)
#define _Out_writes_bytes_to_opt_(size, count)
#define _Inout_updates_(size)
#define _Inout_updates_bytes_(size)
#define _Inout_updates_bytes_opt_(size)
#define _Field_size_(size)
#define _Field_size_bytes_(size)
#define _Field_size_bytes_part_(size, count)
#define _Frees_ptr_opt_
#define _Post_writable_byte_size_(size)
#define _Ret_maybenull_
#define _Printf_format_string_

#endif /* ALPC_COMPAT_SAL_H */
