using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AiRbac;

/// <summary>
/// The role-name memo of step 3: a subject built per request whose bindings are plain role names (no scope, no expiry)
/// and that names the same roles, in the same order, for the same kind as an earlier subject finds its effective role
/// set here, without looking the names up or merging closures; the set then goes through the same table lookup as
/// always (<see cref="TableOf"/>), so an evicted table is rebuilt by the same code and decisions stay exact.
/// </summary>
/// <remarks>
/// Bounded and allocation-free once made: one flat <c>int</c> array of <see cref="MemoSlots"/> slots of
/// <see cref="MemoStride"/> ints (640 KiB), allocated on the first write and never grown. A slot holds the hash, the kind,
/// the names (length-prefixed UTF-16, at most <see cref="MemoMaxChars"/> characters with prefixes) and the effective set
/// (at most <see cref="MemoMaxRoles"/> ids); longer sequences are not memoized. Slots are two-way (home and neighbour)
/// and overwritten in place under a sequence number (odd while written), so a reader never uses a torn slot: it checks
/// the number before and after copying. The names are compared exactly, so a hash collision costs a miss, never a
/// wrong set; the hash is process-randomized (<see cref="HashCode"/>).
/// </remarks>
public sealed partial class CompiledPolicy
{
    private const int MemoSlots = 4096;
    private const int MemoStride = 40;
    private const int MemoMaxRoles = 10;
    private const int MemoHeader = 6; // sequence, hash, kind, name count, set length, unused
    private const int MemoNamesAt = MemoHeader + MemoMaxRoles;
    private const int MemoMaxChars = (MemoStride - MemoNamesAt) * 2;

    private int[]? nameMemo;
    private readonly Lock nameMemoLock = new();

    /// <summary>The memo's size in bytes once allocated (fixed), or 0 before its first write (tests read it).</summary>
    internal long NameMemoBytes => Volatile.Read(ref nameMemo) is null ? 0 : NameMemoCapBytes;

    /// <summary>The memo's fixed size in bytes: the array and its header.</summary>
    internal const long NameMemoCapBytes = (MemoSlots * MemoStride * 4L) + 24;

    /// <summary>The memo's hash of a subject's bindings for a kind, or false when they cannot be memoized (a scope, an expiry, a null role, too long).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool MemoHash(ReadOnlySpan<RoleBinding> bindings, SubjectKind kind, out int hash)
    {
        hash = 0;
        if (bindings.Length > MemoMaxRoles)
        {
            return false;
        }

        var h = default(HashCode);
        h.Add((int)kind);
        int chars = 0;
        foreach (ref readonly var binding in bindings)
        {
            string? name = binding.Role;
            if (name is null || binding.Scope is not null || binding.Expires is not null)
            {
                return false;
            }

            chars += name.Length + 1;
            if (chars > MemoMaxChars)
            {
                return false;
            }

            h.Add(name.Length);
            h.AddBytes(MemoryMarshal.AsBytes(name.AsSpan()));
        }

        hash = h.ToHashCode();
        return true;
    }

    /// <summary>The memoized effective set of these bindings, copied into <paramref name="set"/>; its length, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int MemoFind(ReadOnlySpan<RoleBinding> bindings, SubjectKind kind, int hash, Span<int> set)
    {
        var memo = Volatile.Read(ref nameMemo);
        if (memo is null)
        {
            return -1;
        }

        int home = hash & (MemoSlots - 1);
        int found = MemoRead(memo, home * MemoStride, bindings, kind, hash, set);
        return found >= 0 ? found : MemoRead(memo, (home ^ 1) * MemoStride, bindings, kind, hash, set);
    }

    private static int MemoRead(int[] memo, int at, ReadOnlySpan<RoleBinding> bindings, SubjectKind kind, int hash, Span<int> set)
    {
        int sequence = Volatile.Read(ref memo[at]);
        if (sequence == 0 || (sequence & 1) != 0 || memo[at + 1] != hash || memo[at + 2] != (int)kind || memo[at + 3] != bindings.Length)
        {
            return -1;
        }

        var chars = MemoryMarshal.Cast<int, char>(memo.AsSpan(at + MemoNamesAt, MemoStride - MemoNamesAt));
        int pos = 0;
        foreach (ref readonly var binding in bindings)
        {
            string name = binding.Role;
            if (pos + 1 + name.Length > chars.Length || chars[pos] != name.Length || !chars.Slice(pos + 1, name.Length).SequenceEqual(name))
            {
                return -1;
            }

            pos += 1 + name.Length;
        }

        int length = memo[at + 4];
        if ((uint)length > MemoMaxRoles)
        {
            return -1;
        }

        memo.AsSpan(at + MemoHeader, length).CopyTo(set);

        // Nothing read above may count unless the slot was not rewritten meanwhile.
        Interlocked.MemoryBarrier();
        return Volatile.Read(ref memo[at]) == sequence ? length : -1;
    }

    /// <summary>Remembers the effective set of these bindings (memoizable, see <see cref="MemoHash"/>); skipped when another thread is writing.</summary>
    private void MemoWrite(ReadOnlySpan<RoleBinding> bindings, SubjectKind kind, int hash, ReadOnlySpan<int> set)
    {
        if (set.Length > MemoMaxRoles || !nameMemoLock.TryEnter())
        {
            return;
        }

        try
        {
            var memo = nameMemo;
            if (memo is null)
            {
                memo = new int[MemoSlots * MemoStride];
                Volatile.Write(ref nameMemo, memo);
            }

            int home = hash & (MemoSlots - 1);
            int at = memo[home * MemoStride] == 0 || memo[(home ^ 1) * MemoStride] != 0 ? home * MemoStride : (home ^ 1) * MemoStride;
            int sequence = memo[at];
            Volatile.Write(ref memo[at], sequence + 1); // odd: being written
            Interlocked.MemoryBarrier();
            memo[at + 1] = hash;
            memo[at + 2] = (int)kind;
            memo[at + 3] = bindings.Length;
            memo[at + 4] = set.Length;
            set.CopyTo(memo.AsSpan(at + MemoHeader, MemoMaxRoles));
            var chars = MemoryMarshal.Cast<int, char>(memo.AsSpan(at + MemoNamesAt, MemoStride - MemoNamesAt));
            int pos = 0;
            foreach (ref readonly var binding in bindings)
            {
                string name = binding.Role;
                chars[pos] = (char)name.Length;
                name.AsSpan().CopyTo(chars[(pos + 1)..]);
                pos += 1 + name.Length;
            }

            Volatile.Write(ref memo[at], sequence + 2); // even: readable
        }
        finally
        {
            nameMemoLock.Exit();
        }
    }
}
