using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace AiRbac;

/// <summary>
/// A read-only string → id map for names looked up on the request path (actions, tags, role names, exact resources of
/// large rule lists). Open addressing over a power-of-two table of (key, id) pairs, one ordinal comparison per probe.
/// Three hashes, the first whose fill stays short is kept: a cheap hash of the length and three characters (callgrind on
/// the reference scenario: about a third of the instructions of a FrozenDictionary lookup); a hash of every character, eight
/// bytes per step, with a per-process seed (names that share their length and ends, like <c>team-00001</c> ...
/// <c>team-10000</c>, cluster in the cheap hash; the randomized string hash costs several times this one on them); and the
/// process-randomized string hash (Marvin) as the last resort. The table is never written after it is built, so a lookup's
/// worst case is fixed then: a request string can only probe the run of occupied slots it lands in, and a hash is kept
/// only if no key was placed more than a few slots from its home and no run of occupied slots is long.
/// </summary>
internal sealed class NameTable
{
    // Longest displacement of a key, and longest run of occupied slots, accepted before trying the next hash.
    private const int MaxProbe = 3;
    private const int MaxRun = 24;

    // Odd, so the multiplication is a bijection; the seed makes the word hash differ per process.
    private const ulong Multiplier = 0x9E3779B97F4A7C15UL;
    internal static readonly ulong Seed = RandomSeed();

    private readonly Entry[] entries;
    private readonly int mask;
    private readonly Hash hash;

    /// <summary>About how many bytes the table holds (its slots; the names are the caller's strings).</summary>
    internal long Bytes => 64 + (entries.Length * 16L);

    public NameTable(IEnumerable<KeyValuePair<string, int>> names)
    {
        var pairs = names.ToArray();
        int size = 4;
        while (size < pairs.Length * 4)
        {
            size <<= 1;
        }

        mask = size - 1;
        entries = new Entry[size];
        foreach (var candidate in (ReadOnlySpan<Hash>)[Hash.Cheap, Hash.Words])
        {
            if (Fill(pairs, candidate) <= MaxProbe && LongestRun() <= MaxRun)
            {
                hash = candidate;
                return;
            }

            Array.Clear(entries);
        }

        hash = Hash.Full;
        Fill(pairs, Hash.Full);
    }

    private enum Hash : byte
    {
        Cheap,
        Words,
        Full,
    }

    public int Count { get; private set; }

    private int Fill(KeyValuePair<string, int>[] pairs, Hash kind)
    {
        int longest = 0;
        Count = 0;
        foreach (var (name, id) in pairs)
        {
            int slot = HashOf(name, kind) & mask;
            int probe = 0;
            while (entries[slot].Key is { } key && !string.Equals(key, name, StringComparison.Ordinal))
            {
                slot = (slot + 1) & mask;
                probe++;
            }

            if (entries[slot].Key is null)
            {
                entries[slot] = new Entry(name, id); // the first id given for a name wins
                Count++;
            }

            longest = Math.Max(longest, probe);

            // Names a hash clusters (the cheap one on "x:10000" ... "x:99999") would make the rest of this fill quadratic:
            // give up at once, and the next hash is tried.
            if (kind != Hash.Full && longest > MaxProbe)
            {
                return longest;
            }
        }

        return longest;
    }

    /// <summary>The longest run of occupied slots (wrapping around): the most probes a lookup of an unknown name can take.</summary>
    private int LongestRun()
    {
        int longest = 0, run = 0;
        for (int i = 0; i < entries.Length * 2 && longest < entries.Length; i++)
        {
            run = entries[i & mask].Key is null ? 0 : run + 1;
            longest = Math.Max(longest, run);
        }

        return longest;
    }

    /// <summary>The id of <paramref name="name"/>, or -1.</summary>
    public int Find(string name)
    {
        if (name.Length == 0 || Count == 0)
        {
            return -1;
        }

        var table = entries;
        int slot = HashOf(name, hash) & mask;
        while (true)
        {
            ref readonly var entry = ref table[slot];
            if (entry.Key is null)
            {
                return -1;
            }

            if (entry.Key.Length == name.Length && TextEquals(entry.Key, name))
            {
                return entry.Id;
            }

            slot = (slot + 1) & mask;
        }
    }

    /// <summary>
    /// Whether two texts of the same length are equal: up to 16 characters (names mostly are) in two overlapping loads
    /// from each end, inline; longer ones by the vectorized library call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TextEquals(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        int length = a.Length;
        ref byte x = ref MemoryMarshal.GetReference(MemoryMarshal.AsBytes(a));
        ref byte y = ref MemoryMarshal.GetReference(MemoryMarshal.AsBytes(b));
        if (length >= 8 && length <= 16)
        {
            nuint last = (nuint)((length - 8) * sizeof(char));
            return Vector128.LoadUnsafe(ref x) == Vector128.LoadUnsafe(ref y) && Vector128.LoadUnsafe(ref x, last) == Vector128.LoadUnsafe(ref y, last);
        }

        if (length >= 4 && length < 8)
        {
            nint last = (length - 4) * sizeof(char);
            return Unsafe.ReadUnaligned<ulong>(ref x) == Unsafe.ReadUnaligned<ulong>(ref y)
                && Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref x, last)) == Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref y, last));
        }

        return a.SequenceEqual(b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HashOf(string s, Hash kind)
        => kind == Hash.Cheap ? CheapHash(s) : kind == Hash.Words ? WordHash(s) : FullHash(s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CheapHash(string s)
    {
        int n = s.Length;
        return n == 0 ? 0 : (int)((uint)(n * -1640531535) ^ ((uint)s[0] * 31u) ^ ((uint)s[n - 1] * 131u) ^ ((uint)s[n >> 1] * 7919u));
    }

    /// <summary>Every character, four at a time (multiply and fold), from a per-process seed.</summary>
    private static int WordHash(string s)
    {
        var chars = s.AsSpan();
        ulong h = Seed ^ ((ulong)chars.Length * Multiplier);
        foreach (ulong word in MemoryMarshal.Cast<char, ulong>(chars))
        {
            h = (h ^ word) * Multiplier;
            h ^= h >> 29;
        }

        for (int i = chars.Length & ~3; i < chars.Length; i++)
        {
            h = (h ^ chars[i]) * Multiplier;
        }

        h ^= h >> 32;
        return (int)h;
    }

    // Randomized per process (Marvin).
    private static int FullHash(string s) => StringComparer.Ordinal.GetHashCode(s);

    private static ulong RandomSeed()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return MemoryMarshal.Read<ulong>(bytes);
    }

    private readonly struct Entry(string key, int id)
    {
        public readonly string? Key = key;
        public readonly int Id = id;
    }
}
