using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AiRbac.Patterns;

namespace AiRbac;

/// <summary>
/// Step 3's building blocks and the role-set cache: the effective role set of a request is computed into a stack
/// buffer from precomputed per-role closures, then its decision table is found by content (a hash over the sorted
/// role ids) in a bounded cache the policy owns. Building a table is the only allocating work, once per role set.
/// </summary>
public sealed partial class CompiledPolicy
{
    /// <summary>The default cap on cached role-set tables, in entries.</summary>
    internal const int DefaultMaxRoleSets = Tuning.RoleSets.MaxTables;

    /// <summary>The default cap on cached role-set tables, in (estimated) bytes.</summary>
    internal const long DefaultMaxRoleSetBytes = Tuning.RoleSets.MaxBytes;

    // Effective role sets up to this size are built on the stack; larger ones rent from the pool.
    private const int StackRoles = Tuning.RoleSets.StackRoles;

    private readonly ConcurrentDictionary<int[], RoleSetTable> roleSets = new(RoleSetComparer.Instance);
    private readonly ConcurrentDictionary<int[], RoleSetTable>.AlternateLookup<ReadOnlySpan<int>> roleSetLookup;

    // Insertion order, for eviction (first in, first out); guarded by evictionLock with roleSetBytes.
    private readonly Queue<int[]> roleSetOrder = new();
    private readonly Lock evictionLock = new();
    private long roleSetBytes;

    // Rules by declaration order within a role (one delegate per policy, made on first use).
    private Comparison<int>? ruleOrder;

    // The roles a binding makes effective, per (role, kind): computed on first use, then shared (3 × roles at most).
    private readonly int[]?[] closures;

    /// <summary>The cap on cached role-set tables, in entries (tests lower it).</summary>
    internal int MaxRoleSets { get; set; } = DefaultMaxRoleSets;

    /// <summary>The cap on cached role-set tables, in estimated bytes (tests lower it).</summary>
    internal long MaxRoleSetBytes { get; set; } = DefaultMaxRoleSetBytes;

    /// <summary>How many role-set tables are cached.</summary>
    internal int RoleSetCount => roleSets.Count;

    /// <summary>The estimated bytes of the cached role-set tables (with the runs built so far).</summary>
    internal long RoleSetBytes => Volatile.Read(ref roleSetBytes);

    /// <summary>
    /// The largest run a table keeps, in estimated bytes: a sixteenth of the byte cap. A larger run is decided from and
    /// dropped (built again, by the same code, for each request of its action), so that one action cannot take the cache.
    /// </summary>
    internal long MaxRunBytes => MaxRoleSetBytes / Tuning.RoleSets.MaxRunFraction;

    /// <summary>The roles a binding to <paramref name="role"/> makes effective for a subject of <paramref name="kind"/>, sorted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int[] ClosureOf(int role, SubjectKind kind)
    {
        // Callers check the kind first (step 2, TryBindingsOf); an undefined kind would read another role's closure.
        System.Diagnostics.Debug.Assert(Subject.IsDefined(kind), "undefined subject kind");
        int slot = (role * 3) + (int)kind;
        return Volatile.Read(ref closures[slot]) ?? ComputeClosure(slot, role, kind);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int[] ComputeClosure(int slot, int role, SubjectKind kind)
    {
        var closure = Closure(role, kind);
        return Interlocked.CompareExchange(ref closures[slot], closure, null) ?? closure;
    }

    /// <summary>
    /// The roles a binding to <paramref name="role"/> makes effective for a subject of <paramref name="kind"/>, sorted:
    /// the role and its ancestors, never entering (or passing through) a role whose kinds exclude the subject.
    /// </summary>
    internal int[] Closure(int role, SubjectKind kind)
    {
        byte bit = (byte)(1 << (int)kind);
        var seen = new HashSet<int>();
        var stack = new Stack<int>();
        if ((roles[role].KindMask & bit) != 0)
        {
            stack.Push(role);
            seen.Add(role);
        }

        while (stack.Count > 0)
        {
            foreach (int parent in roles[stack.Pop()].Parents)
            {
                if ((roles[parent].KindMask & bit) != 0 && seen.Add(parent))
                {
                    stack.Push(parent);
                }
            }
        }

        var result = seen.ToArray();
        Array.Sort(result);
        return result;
    }

    /// <summary>
    /// The table of an effective role set (sorted, distinct): from the cache, else built and cached (or, past the cap,
    /// evicting). A two-way set-associative array in front of the dictionary answers most lookups with one hash, two loads
    /// and a comparison; it only ever holds tables the dictionary holds (written and cleared under the eviction lock). A
    /// set found in the dictionary but not in the array is put back in the array, when the lock is free.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private RoleSetTable TableOf(ReadOnlySpan<int> effective)
    {
        int home = RoleSetComparer.Instance.GetHashCode(effective) & RecentMask;
        var recent = Volatile.Read(ref recentTables[home]);
        if (recent is not null && effective.SequenceEqual(recent.Roles))
        {
            return recent;
        }

        recent = Volatile.Read(ref recentTables[home ^ 1]);
        if (recent is not null && effective.SequenceEqual(recent.Roles))
        {
            return recent;
        }

        return FindOrAddTable(effective, home);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private RoleSetTable FindOrAddTable(ReadOnlySpan<int> effective, int home)
    {
        if (!roleSetLookup.TryGetValue(effective, out var table))
        {
            return AddTable(effective.ToArray());
        }

        if (evictionLock.TryEnter())
        {
            try
            {
                // Still cached (not evicted since the lookup): the array may hold it again.
                if (roleSets.TryGetValue(table.Roles, out var current) && ReferenceEquals(current, table))
                {
                    Remember(table, home);
                }
            }
            finally
            {
                evictionLock.Exit();
            }
        }

        return table;
    }

    // 4,096 slots in pairs: the reference corpus's 1,319 role sets at scale-10000 mostly fit (1,024 direct-mapped slots
    // sent about a fifth of its lookups to the dictionary).
    private const int RecentMask = Tuning.RoleSets.RecentSlots - 1;
    private readonly RoleSetTable?[] recentTables = new RoleSetTable?[RecentMask + 1];

    /// <summary>Puts a cached table in the array (under the eviction lock): its home slot if free, else the other of the pair, else home.</summary>
    private void Remember(RoleSetTable table, int home)
    {
        int slot = recentTables[home] is null || recentTables[home ^ 1] is not null ? home : home ^ 1;
        Volatile.Write(ref recentTables[slot], table);
    }

    // The binding memo: up to three plain bindings (no scope, no expiry, declared roles) and the subject's kind, packed
    // into one number (BindingKey), lead to the table of the set they make effective. 8,192 references in pairs (64 KiB,
    // fixed); a slot is only a hint: the table it points to must list the key among its own (RoleSetTable.HasMemoKey),
    // so a collision or a replaced slot costs a miss (the general path, by the same code), never a wrong table. Slots
    // and keys are written under the eviction lock and only for cached tables, and evicting a table clears the slots of
    // its keys, so the memo never holds a table the cache's caps no longer count.
    private const int MemoBindings = 3;
    private const int MemoRoleBits = 20;
    private const int MemoMask = Tuning.RoleSets.MemoSlots - 1;
    private readonly RoleSetTable?[] memoTables = new RoleSetTable?[MemoMask + 1];

    /// <summary>
    /// Looks up the roles of at most <see cref="MemoBindings"/> bindings into <paramref name="ids"/> (-1 for an undeclared
    /// or missing role) and returns how many; <paramref name="key"/> is their memo key when every binding is plain (a
    /// declared role, no scope, no expiry), else 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ResolvePlainBindings(ReadOnlySpan<RoleBinding> bindings, Span<int> ids, SubjectKind kind, out ulong key)
    {
        bool plain = bindings.Length > 0 && roles.Length < (1 << MemoRoleBits) - 1;
        for (int i = 0; i < bindings.Length; i++)
        {
            ref readonly var binding = ref bindings[i];
            int role = binding.Role is null ? -1 : roleIds.Find(binding.Role);
            ids[i] = role;
            plain &= role >= 0 && binding.Scope is null && binding.Expires is null;
        }

        key = plain ? BindingKey(ids[..bindings.Length], kind) : 0;
        return bindings.Length;
    }

    /// <summary>
    /// The memo key of 1 to 3 plain bindings: the role ids (plus one, so never 0) in ascending order, 20 bits each from
    /// the low end, and the kind (plus one) in the top two bits. The effective set depends only on which roles are bound
    /// and the kind, so the order the subject lists them in does not matter. The low half holds the first role and the
    /// high half the kind, both non-zero: <see cref="RoleSetTable.HasMemoKey"/> relies on it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong BindingKey(ReadOnlySpan<int> ids, SubjectKind kind)
    {
        ulong a = (ulong)(ids[0] + 1), b = ids.Length > 1 ? (ulong)(ids[1] + 1) : 0, c = ids.Length > 2 ? (ulong)(ids[2] + 1) : 0;
        if (b != 0 && b < a)
        {
            (a, b) = (b, a);
        }

        if (c != 0)
        {
            if (c < a)
            {
                (a, b, c) = (c, a, b);
            }
            else if (c < b)
            {
                (b, c) = (c, b);
            }
        }

        return a | (b << MemoRoleBits) | (c << (2 * MemoRoleBits)) | ((ulong)((int)kind + 1) << 62);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MemoSlot(ulong key) => (int)(((key ^ NameTable.Seed) * 0x9E3779B97F4A7C15UL) >> 51) & MemoMask;

    /// <summary>The table the memo holds for <paramref name="key"/>, or null; <paramref name="home"/> is the key's slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private RoleSetTable? FindMemo(ulong key, out int home)
    {
        home = MemoSlot(key);
        var table = Volatile.Read(ref memoTables[home]);
        if (table is not null && table.HasMemoKey(key))
        {
            return table;
        }

        table = Volatile.Read(ref memoTables[home ^ 1]);
        return table is not null && table.HasMemoKey(key) ? table : null;
    }

    /// <summary>
    /// After a memo miss: lets the memo find <paramref name="table"/> by <paramref name="key"/> next time, if the table is
    /// cached and has a free key field, and the eviction lock is free (else the next miss tries again).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Memoize(RoleSetTable table, ulong key, int home)
    {
        if (!evictionLock.TryEnter())
        {
            return;
        }

        try
        {
            if (table.Cached && (table.HasMemoKey(key) || table.AddMemoKey(key)))
            {
                int slot = memoTables[home] is null || memoTables[home ^ 1] is not null ? home : home ^ 1;
                Volatile.Write(ref memoTables[slot], table);
            }
        }
        finally
        {
            evictionLock.Exit();
        }
    }

    /// <summary>How many memo slots point to <paramref name="table"/> (tests: an evicted table has none).</summary>
    internal int MemoSlotsOf(RoleSetTable table) => memoTables.Count(t => ReferenceEquals(t, table));

    /// <summary>How many memo slots are in use, and whether every table they point to is cached (tests: the memo stays within the cache's caps).</summary>
    internal (int Used, bool AllCached) MemoState()
    {
        lock (evictionLock)
        {
            return (memoTables.Count(t => t is not null), memoTables.All(t => t is null || t.Cached));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private RoleSetTable AddTable(int[] effective)
    {
        var table = BuildTable(effective);
        lock (evictionLock)
        {
            if (roleSets.TryGetValue(effective, out var existing))
            {
                return existing;
            }

            if (table.Bytes > MaxRoleSetBytes || MaxRoleSets <= 0)
            {
                return table; // one table larger than the whole cache: decided from it, never kept
            }

            // First in, first out: an attacker's stream of new role sets evicts its own sets as much as anyone's, and a
            // subject evicted mid-flight still holds its table (decisions stay exact; the set is rebuilt when next seen).
            // The queue holds exactly the cached keys (both change only under this lock): its count is free, where the
            // dictionary's Count takes every one of its locks (about 20 µs per new set with 16,384 sets cached).
            while (roleSetOrder.Count > 0 && (roleSetOrder.Count >= MaxRoleSets || roleSetBytes + table.Bytes > MaxRoleSetBytes))
            {
                Evict(roleSetOrder.Dequeue());
            }

            roleSets[effective] = table;
            roleSetOrder.Enqueue(effective);
            table.Cached = true;
            Remember(table, RoleSetComparer.Instance.GetHashCode(effective) & RecentMask);
            Volatile.Write(ref roleSetBytes, roleSetBytes + table.Bytes);
        }

        return table;
    }

    /// <summary>Removes a cached set (under the eviction lock; its key just left the queue): from the dictionary, the array and the byte total.</summary>
    private void Evict(int[] key)
    {
        if (roleSets.TryRemove(key, out var evicted))
        {
            evicted.Cached = false;
            Volatile.Write(ref roleSetBytes, roleSetBytes - evicted.Bytes);
            int old = RoleSetComparer.Instance.GetHashCode(evicted.Roles) & RecentMask;
            if (ReferenceEquals(recentTables[old], evicted))
            {
                Volatile.Write(ref recentTables[old], null);
            }

            if (ReferenceEquals(recentTables[old ^ 1], evicted))
            {
                Volatile.Write(ref recentTables[old ^ 1], null);
            }

            for (int i = 0; i < RoleSetTable.MemoKeys && evicted.MemoKey(i) is var memoKey and not 0; i++)
            {
                int home = MemoSlot(memoKey);
                if (ReferenceEquals(memoTables[home], evicted))
                {
                    Volatile.Write(ref memoTables[home], null);
                }

                if (ReferenceEquals(memoTables[home ^ 1], evicted))
                {
                    Volatile.Write(ref memoTables[home ^ 1], null);
                }
            }
        }
    }

    /// <summary>
    /// Step 4 and the list of runs (steps 6 and 8) for one effective role set (sorted, distinct). Cold: once per set. The runs themselves are built one at a time, when a request
    /// first asks for their action (<see cref="BuildRun"/>): a never-seen set costs its first request the work of one
    /// action, in proportion to its own rules, however many actions it names.
    /// </summary>
    private RoleSetTable BuildTable(int[] effective)
    {
        int sodSet = FindExclusiveConflict(effective, out int sodRole);
        var actions = ActionsNamedBy(effective);
        actions.Sort();
        actions.Add(-1); // the fallback run: every action no rule names exactly
        bool gated = false;
        foreach (int r in effective)
        {
            gated |= roles[r].Gated;
        }

        return new RoleSetTable(this, effective, sodSet, sodRole, [.. actions], gated);
    }

    /// <summary>
    /// The run <paramref name="index"/> of a table, built now if no request has asked for its action yet, then kept and
    /// shared: the cache is charged for what is built. Keeping a run adds its bytes to the table's and, if the table is
    /// cached, to the cache's total; past the cap, older tables are evicted first in, first out (never this one). A table
    /// whose own runs would pass the cap drops its other runs first (they are built again, by the same code, when asked
    /// for). A run larger than <see cref="MaxRunBytes"/> is decided from and not kept. Concurrent builds of one run: the
    /// first kept wins, and every caller decides from it.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private RunTable BuildRun(RoleSetTable table, int index)
    {
        var run = new RunBuilder(this, table.Roles).Build(table.Slots[index].Action);
        if (run.Bytes > MaxRunBytes)
        {
            return run; // one run larger than a sixteenth of the cache: decided from it, never kept
        }

        lock (evictionLock)
        {
            if (table.Slots[index].Run is { } existing)
            {
                return existing;
            }

            if (table.Bytes + run.Bytes > MaxRoleSetBytes)
            {
                DropRuns(table);
                if (table.Bytes + run.Bytes > MaxRoleSetBytes)
                {
                    return run; // the table's own part leaves no room: decided from it, not kept
                }
            }

            if (table.Cached)
            {
                // Evict older sets until the run fits; this table, met in the queue, goes to its back.
                for (int left = roleSetOrder.Count; left > 0 && roleSetBytes + run.Bytes > MaxRoleSetBytes; left--)
                {
                    var key = roleSetOrder.Dequeue();
                    if (ReferenceEquals(key, table.Roles))
                    {
                        roleSetOrder.Enqueue(key);
                    }
                    else
                    {
                        Evict(key);
                    }
                }

                Volatile.Write(ref roleSetBytes, roleSetBytes + run.Bytes);
            }

            table.Charge(run.Bytes);
            Volatile.Write(ref table.Slots[index].Run, run);
        }

        return run;
    }

    /// <summary>Drops every built run of a table (under the eviction lock), uncharging them; requests holding one keep deciding from it.</summary>
    private void DropRuns(RoleSetTable table)
    {
        var slots = table.Slots;
        for (int i = 0; i < slots.Length; i++)
        {
            if (slots[i].Run is { } dropped)
            {
                Volatile.Write(ref slots[i].Run, null);
                table.Charge(-dropped.Bytes);
                if (table.Cached)
                {
                    Volatile.Write(ref roleSetBytes, roleSetBytes - dropped.Bytes);
                }
            }
        }
    }

    /// <summary>The actions the roles' rules name exactly, each once.</summary>
    private List<int> ActionsNamedBy(int[] effective)
    {
        var actions = new HashSet<int>();
        foreach (int r in effective)
        {
            ref readonly var role = ref roles[r];
            for (int i = role.SlotStart; i < role.SlotStart + role.SlotCount; i++)
            {
                actions.Add(slots[i].ActionId);
            }
        }

        return [.. actions];
    }

    internal int FindExclusiveConflict(ReadOnlySpan<int> effective, out int role)
    {
        role = -1;
        for (int s = 0; s < exclusiveSets.Length; s++)
        {
            int held = 0;
            int first = -1;
            foreach (int member in exclusiveSets[s].Roles)
            {
                if (effective.BinarySearch(member) >= 0)
                {
                    held++;
                    if (first < 0)
                    {
                        first = member;
                    }
                }
            }

            if (held >= 2)
            {
                role = first;
                return s;
            }
        }

        return -1;
    }

    /// <summary>Whether an action glob matches an interned action: from the table, or matched when the table was too large to build.</summary>
    private bool GlobMatchesAction(int actionGlob, int actionId)
        => actionGlobMatches.Length != 0
            ? actionGlobMatches[(actionGlob * actionCount) + actionId]
            : actionGlobs[actionGlob].IsMatch(actionNames[actionId]);

    // Roles name few actions: a plain scan of the role's slots.
    private int SlotOf(in RoleData role, int actionId)
    {
        if (actionId >= 0)
        {
            for (int i = role.SlotStart, end = role.SlotStart + role.SlotCount; i < end; i++)
            {
                if (slots[i].ActionId == actionId)
                {
                    return i;
                }
            }
        }

        return -1;
    }

    /// <summary>The last <see cref="ViewRule.TailLength"/> characters of a text at least that long, as one number.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong TailOf(ReadOnlySpan<char> text)
        => MemoryMarshal.Read<ulong>(MemoryMarshal.AsBytes(text[^ViewRule.TailLength..]));

    /// <summary>Builds one run of a table: its scanned rules, then the hashed exact names.</summary>
    private sealed class RunBuilder(CompiledPolicy policy, int[] effective)
    {
        private readonly List<ViewRule> scanned = [];
        private readonly List<ViewRuleInfo> scannedInfos = [];
        private readonly List<(ViewRule Rule, ViewRuleInfo Info)> hashed = [];
        private readonly List<(int Role, int Rule)> picked = [];
        private readonly List<int> scratch = [];
        private readonly List<char> chars = [];

        public RunTable Build(int actionId)
        {
            var deny = AddSection(actionId, deny: true);
            int allowStart = scanned.Count;
            var allow = AddSection(actionId, deny: false);

            // The hashed rules follow the scanned ones: no scan range reaches them.
            int offset = scanned.Count;
            var rules = new ViewRule[offset + hashed.Count];
            var infos = new ViewRuleInfo[rules.Length];
            scanned.CopyTo(rules);
            scannedInfos.CopyTo(infos);
            for (int i = 0; i < hashed.Count; i++)
            {
                rules[offset + i] = hashed[i].Rule;
                infos[offset + i] = hashed[i].Info;
            }

            RunIndex? index = null;
            if (deny is not null || allow is not null)
            {
                var hits = new List<int>();
                var denyNames = ToNameTable(deny, hits, offset);
                var allowNames = ToNameTable(allow, hits, offset);
                index = new RunIndex(denyNames, allowNames, [.. hits]);
            }

            return new RunTable(allowStart, offset, rules, infos, [.. chars], index);
        }

        /// <summary>
        /// Every role's denies (or grants) that can apply to the action, roles in file order (the effective set is sorted
        /// by declaration) and within a role in file order. Exact names go to a hash when the section has many.
        /// Returns the section's hashed names (name → indices into the hashed list), or null.
        /// </summary>
        private Dictionary<string, List<int>>? AddSection(int actionId, bool deny)
        {
            picked.Clear();
            foreach (int r in effective)
            {
                policy.PickRules(r, actionId, deny, picked, scratch);
            }

            int exactCount = 0;
            foreach (var (_, k) in picked)
            {
                exactCount += policy.rules[k].ResourceShape == PatternShape.Exact ? 1 : 0;
            }

            Dictionary<string, List<int>>? names = exactCount > RoleSetTable.HashThreshold ? new(StringComparer.Ordinal) : null;
            for (int position = 0; position < picked.Count; position++)
            {
                var (r, k) = picked[position];
                var (rule, info) = policy.ToViewRule(k, r, actionId < 0, position, chars);
                if (names is not null && policy.rules[k].ResourceShape == PatternShape.Exact)
                {
                    string name = policy.rules[k].ResourcePrefix;
                    if (!names.TryGetValue(name, out var list))
                    {
                        names.Add(name, list = []);
                    }

                    list.Add(hashed.Count);
                    hashed.Add((rule, info));
                }
                else
                {
                    scanned.Add(rule);
                    scannedInfos.Add(info);
                }
            }

            return names;
        }

        private static NameTable? ToNameTable(Dictionary<string, List<int>>? names, List<int> hits, int offset)
        {
            if (names is null)
            {
                return null;
            }

            var entries = new List<KeyValuePair<string, int>>(names.Count);
            foreach (var (name, list) in names)
            {
                entries.Add(KeyValuePair.Create(name, hits.Count));
                hits.Add(list.Count);
                foreach (int h in list)
                {
                    hits.Add(offset + h);
                }
            }

            return new NameTable(entries);
        }
    }

    /// <summary>
    /// Appends one role's denies (or grants) that can apply to an action — those naming it exactly and those whose action
    /// pattern matches it; for the fallback run (-1), those with a wildcard action — in file order, since within a role
    /// the first matching rule decides.
    /// </summary>
    private void PickRules(int r, int actionId, bool deny, List<(int Role, int Rule)> picked, List<int> mine)
    {
        ref readonly var role = ref roles[r];
        int slot = SlotOf(in role, actionId);
        var exact = slot < 0 ? default : deny ? slots[slot].Deny : slots[slot].Allow;
        var any = deny ? role.AnyDeny : role.AnyAllow;
        mine.Clear();
        for (int k = exact.Start; k < exact.Start + exact.Count; k++)
        {
            mine.Add(k);
        }

        for (int k = any.Start; k < any.Start + any.Count; k++)
        {
            if (actionId < 0 || rules[k].ActionId == AnyAction || GlobMatchesAction(rules[k].ActionGlob, actionId))
            {
                mine.Add(k);
            }
        }

        if (mine.Count > 1)
        {
            mine.Sort(ruleOrder ??= (x, y) => rules[x].Order.CompareTo(rules[y].Order));
        }
        foreach (int k in mine)
        {
            picked.Add((r, k));
        }
    }

    private (ViewRule Rule, ViewRuleInfo Info) ToViewRule(int k, int r, bool fallback, int position, List<char> chars)
    {
        ref readonly var rule = ref rules[k];
        int prefixStart = chars.Count;
        if (rule.ResourceShape is PatternShape.Exact or PatternShape.PrefixNoSlash or PatternShape.PrefixAny)
        {
            chars.AddRange(rule.ResourcePrefix);
        }

        // Only the fallback run serves actions its rules do not name exactly: there a glob action is tested per request.
        int actionGlob = fallback && rule.ActionId == GlobAction ? rule.ActionGlob : -1;
        int prefixLength = chars.Count - prefixStart;
        ulong tail = prefixLength >= ViewRule.TailLength ? TailOf(rule.ResourcePrefix.AsSpan(0, prefixLength)) : 0;
        return (new ViewRule(r, rule.ResourceShape, actionGlob >= 0, prefixStart, prefixLength, tail),
            new ViewRuleInfo(k, actionGlob, rule.ResourcePattern, rule.CatalogEntry, rule.CatalogCandidates, roles[r].Ceiling, roles[r].Clearances, position));
    }

    /// <summary>
    /// An effective role set under construction: role ids appended from closures into a stack buffer (growing into a
    /// pooled array past it), then sorted and deduplicated in place.
    /// </summary>
    private ref struct RoleSetBuilder(Span<int> initial)
    {
        private Span<int> buffer = initial;
        private int[]? rented;
        private int count;
        private int appended;

        /// <summary>The ids appended so far, in order, as they are (not sorted, not deduplicated).</summary>
        public readonly ReadOnlySpan<int> Appended => buffer[..count];

        public void Append(scoped ReadOnlySpan<int> closure)
        {
            appended++;
            if (count + closure.Length > buffer.Length)
            {
                Grow(count + closure.Length);
            }

            closure.CopyTo(buffer[count..]);
            count += closure.Length;
        }

        /// <summary>Appends one id.</summary>
        public void Append(int id)
        {
            if (count == buffer.Length)
            {
                Grow(count + 1);
            }

            buffer[count++] = id;
            appended++;
        }

        private void Grow(int needed)
        {
            var bigger = ArrayPool<int>.Shared.Rent(Math.Max(needed, buffer.Length * 2));
            buffer[..count].CopyTo(bigger);
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }

            rented = bigger;
            buffer = bigger;
        }

        /// <summary>The set: sorted, distinct.</summary>
        public readonly ReadOnlySpan<int> SortedDistinct()
        {
            var span = buffer[..count];
            if (appended <= 1)
            {
                return span; // one closure: sorted and distinct already
            }

            if (span.Length <= 16)
            {
                // A few closures of a few roles: insertion sort beats the general sort's set-up.
                for (int i = 1; i < span.Length; i++)
                {
                    int value = span[i];
                    int j = i - 1;
                    while (j >= 0 && span[j] > value)
                    {
                        span[j + 1] = span[j];
                        j--;
                    }

                    span[j + 1] = value;
                }
            }
            else
            {
                span.Sort();
            }

            if (span.Length == 0)
            {
                return span;
            }

            int write = 1;
            for (int i = 1; i < span.Length; i++)
            {
                if (span[i] != span[write - 1])
                {
                    span[write++] = span[i];
                }
            }

            return span[..write];
        }

        public readonly void Dispose()
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Role sets compared by content; hashed with the process-randomized <see cref="HashCode"/> (no chosen collisions).</summary>
    private sealed class RoleSetComparer : IEqualityComparer<int[]>, IAlternateEqualityComparer<ReadOnlySpan<int>, int[]>
    {
        public static readonly RoleSetComparer Instance = new();

        public bool Equals(int[]? x, int[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(int[] obj) => GetHashCode((ReadOnlySpan<int>)obj);

        public bool Equals(ReadOnlySpan<int> alternate, int[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<int> alternate)
        {
            var hash = default(HashCode);
            hash.AddBytes(MemoryMarshal.AsBytes(alternate));
            return hash.ToHashCode();
        }

        public int[] Create(ReadOnlySpan<int> alternate) => alternate.ToArray();
    }
}
