using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AiRbac.Patterns;

namespace AiRbac;

/// <summary>
/// The decision table of one effective role set (sorted, distinct role ids): step 4's answer, and for steps 6 and 8
/// per action the roles' denies and grants merged in tie order (roles in file order, then rules in file order), with
/// what matching and judging a rule needs stored inline. Every subject, whatever its bindings, is decided by one lookup
/// of its effective set's table and one scan of it. Tables are shared through the policy's bounded role-set cache
/// (<see cref="CompiledPolicy"/>), and immutable once built.
/// </summary>
[StructLayout(LayoutKind.Sequential)] // what every decision reads first, in the object's first cache line
internal sealed class RoleSetTable
{
    // A run with more exact resource names than this in one section finds them by hash instead of scanning them.
    internal const int HashThreshold = RuleBucket.HashThreshold;

    private readonly CompiledPolicy policy;
    private readonly RunSlot[] slots;
    private readonly int sodSet;
    private readonly int roleCount;

    public RoleSetTable(CompiledPolicy policy, int[] roles, int sodSet, int sodRole, int[] actions, bool gated = false)
    {
        this.policy = policy;
        Gated = gated;
        this.sodSet = sodSet;
        roleCount = roles.Length;
        slots = new RunSlot[actions.Length];
        for (int i = 0; i < actions.Length; i++)
        {
            slots[i] = new RunSlot(actions[i]);
        }

        Roles = roles;
        SodRole = sodRole;
        bytes = Overhead + (roles.Length * 4L) + (actions.Length * 16L);
    }

    /// <summary>How many binding keys one table can be found by through the policy's binding memo (fields, not an array: no indirection).</summary>
    public const int MemoKeys = 4;

    // The binding memo's keys of this table (CompiledPolicy.BindingKey): each written once, 0 to its key, under the
    // policy's eviction lock, and read without it. Write-once is what makes an unlocked read safe even where a 64-bit
    // write may tear: a half-written key has a zero half, and no key has (its kind sits in the high half, its first role
    // in the low half), so a torn read never equals a key.
    private ulong memoKey0, memoKey1, memoKey2, memoKey3;

    // Written only under the policy's eviction lock.
    private long bytes;

    // Object headers, array headers and the cache's entry for the table: an upper estimate.
    private const long Overhead = 512;

    /// <summary>The policy the table belongs to.</summary>
    public CompiledPolicy Policy => policy;

    /// <summary>
    /// Whether the set holds a gated role (one with conditions, docs/policy-language.md, section 11): then which of its roles
    /// grant depends on the request, and a subject's set is never kept on the subject.
    /// </summary>
    public bool Gated { get; }

    /// <summary>How many roles the set holds (step 5: none).</summary>
    public int RoleCount => roleCount;

    /// <summary>The effective role set (sorted, distinct): the table's key.</summary>
    public int[] Roles { get; }

    /// <summary>Step 4: the first broken <c>mutually_exclusive</c> list, or -1.</summary>
    public int SodSet => sodSet;

    /// <summary>Step 4: the first role of that list the set holds.</summary>
    public int SodRole { get; }

    /// <summary>
    /// Per action, its run: the actions a rule of the set names exactly, ascending, then -1 (the fallback run, for every
    /// other action), side by side with their runs (one array to read, not two). A run is built the first time a request
    /// asks for its action (so a never-seen role set costs its first request one run, not one per action the set names),
    /// then shared; <see langword="null"/> until then.
    /// </summary>
    public RunSlot[] Slots => slots;

    /// <summary>The runs built so far, by slot (a copy, for tests).</summary>
    internal RunTable?[] Runs => [.. slots.Select(s => s.Run)];

    /// <summary>
    /// About how many bytes the table holds with the runs built so far (an upper estimate): its own part when it is
    /// added to the cache, then each run's <see cref="RunTable.Bytes"/> as the run is kept (and less a run dropped).
    /// </summary>
    public long Bytes => Volatile.Read(ref bytes);

    /// <summary>Whether the table is in the policy's cache (its bytes count against the cap); read and written under the eviction lock.</summary>
    internal bool Cached { get; set; }

    /// <summary>Whether the binding memo may find this table by <paramref name="key"/>: the bindings it packs make exactly this set effective.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool HasMemoKey(ulong key)
        => Volatile.Read(ref memoKey0) == key || Volatile.Read(ref memoKey1) == key
            || Volatile.Read(ref memoKey2) == key || Volatile.Read(ref memoKey3) == key;

    /// <summary>The <paramref name="index"/>-th memo key (0 when unused); under the eviction lock.</summary>
    public ulong MemoKey(int index) => index switch
    {
        0 => memoKey0,
        1 => memoKey1,
        2 => memoKey2,
        _ => memoKey3,
    };

    /// <summary>Records a memo key in the first free field (under the eviction lock); false when all are taken (the key is then not memoized).</summary>
    public bool AddMemoKey(ulong key)
    {
        ref ulong free = ref memoKey0 == 0 ? ref memoKey0 : ref memoKey1 == 0 ? ref memoKey1 : ref memoKey2 == 0 ? ref memoKey2 : ref memoKey3;
        if (free != 0)
        {
            return false;
        }

        Volatile.Write(ref free, key);
        return true;
    }

    /// <summary>Adds (or, negative, removes) a run's bytes; under the eviction lock.</summary>
    internal void Charge(long runBytes) => Volatile.Write(ref bytes, bytes + runBytes);
}

/// <summary>An action of a role-set table and its run, once built (written under the policy's eviction lock).</summary>
internal struct RunSlot(int action)
{
    /// <summary>The action id, or -1 for the fallback run.</summary>
    public readonly int Action = action;

    /// <summary>The run, or <see langword="null"/> until a request asks for the action (or after it was dropped).</summary>
    public RunTable? Run;
}

/// <summary>
/// The denies and grants of one action for one role set, in tie order (roles in file order, then rules in file order):
/// denies <c>[0, AllowStart)</c> and grants <c>[AllowStart, End)</c> scanned, then the rules found by hash through
/// <see cref="Index"/> (outside both ranges).
/// </summary>
internal sealed class RunTable(int allowStart, int end, ViewRule[] rules, ViewRuleInfo[] infos, char[] chars, RunIndex? index)
{
    // Object and array headers of a run: an upper estimate.
    public const long Overhead = 256;

    /// <summary>Where the grants start (the denies start at 0).</summary>
    public int AllowStart { get; } = allowStart;

    /// <summary>Where the scanned grants end.</summary>
    public int End { get; } = end;

    /// <summary>What the scans read of each rule: a few adjacent entries per request.</summary>
    public ViewRule[] Rules { get; } = rules;

    /// <summary>What only a matching rule needs, at the same index as in <see cref="Rules"/>.</summary>
    public ViewRuleInfo[] Infos { get; } = infos;

    /// <summary>The exact names and literal prefixes of the rules, side by side.</summary>
    public char[] Chars { get; } = chars;

    /// <summary>The hash of the run's exact names when a section has many, else <see langword="null"/>.</summary>
    public RunIndex? Index { get; } = index;

    /// <summary>
    /// About how many bytes the run holds (an upper estimate): its rules, their infos, characters and hash. Patterns and
    /// catalog candidates are the policy's, shared, and not counted.
    /// </summary>
    public long Bytes { get; } = Overhead + (rules.Length * (24L + ViewRuleInfo.Bytes)) + (chars.Length * 2L)
        + (index is null ? 0 : 64 + (index.Hits.Length * 4L) + (index.Deny?.Bytes ?? 0) + (index.Allow?.Bytes ?? 0));
}

/// <summary>
/// A run's exact resource names, by hash: <c>Deny.Find(name)</c> (or <c>Allow</c>) gives an offset into <see cref="Hits"/>
/// holding a count and then that many rule indices (into the run's rules, outside both scanned ranges), ascending by
/// position. The scans merge them with the scanned rules by <see cref="ViewRuleInfo.Position"/>.
/// </summary>
internal sealed record RunIndex(NameTable? Deny, NameTable? Allow, int[] Hits);

/// <summary>
/// The part of a table rule that the scans read: the resource matcher and the role. Kept to 24 bytes so that one
/// request's rules share few cache lines (with 10,000 roles, most tables are not in the cache).
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal readonly struct ViewRule(int role, PatternShape shape, bool testAction, int prefixStart, int prefixLength, ulong tail)
{
    // Characters of the prefix packed into Tail.
    public const int TailLength = 4;

    // The prefix's last TailLength characters, when it has that many: most rules that do not match differ there.
    public readonly ulong Tail = tail;
    public readonly int Role = role;
    public readonly int PrefixStart = prefixStart;
    public readonly int PrefixLength = prefixLength;
    public readonly PatternShape Shape = shape;

    // Only in the fallback run: the rule's action is a glob to test against the request's action.
    public readonly bool TestAction = testAction;
}

/// <summary>The part of a table rule read when it matches (or to match a general pattern or a glob action, or to merge hashed names).</summary>
internal readonly record struct ViewRuleInfo(int Rule, int ActionGlob, Pattern? Pattern, int CatalogEntry, int[]? CatalogCandidates,
    int Ceiling, ulong Clearances, int Position)
{
    // Its size in an array, rounded up.
    public const long Bytes = 56;
}
