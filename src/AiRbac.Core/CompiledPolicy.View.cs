using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AiRbac.Patterns;

namespace AiRbac;

public sealed partial class CompiledPolicy
{
    // Resolutions of static subjects, shared by effective role set. The policy keeps them as long as it lives, so they
    // are bounded (by count, and by the bytes of their views) so that callers inventing role sets cannot grow it without
    // limit. Past a bound, a subject gets a resolution of its own, which lives as long as the subject.
    private const int MaxSharedResolutions = 16_384;
    private const long MaxSharedViewBytes = 64L << 20;
    private readonly ConcurrentDictionary<string, ResolvedSubject> sharedResolutions = new(StringComparer.Ordinal);
    private long sharedViewBytes;

    // Tests turn views off to check the role-by-role path (which role sets beyond the view bounds take) against them.
    internal bool ViewsDisabled { get; set; }

    /// <summary>The resolution of a static subject with an id, valid bindings and these effective roles (sorted, distinct).</summary>
    private ResolvedSubject StaticResolution(int[] effective)
    {
        string key = string.Join(',', effective);
        if (sharedResolutions.TryGetValue(key, out var shared))
        {
            return shared;
        }

        int sodSet = FindExclusiveConflict(effective, out int sodRole);
        var resolution = new ResolvedSubject
        {
            Policy = this,
            Static = true,
            Effective = effective,
            SodSet = sodSet,
            SodRole = sodRole,
            View = sodSet < 0 && effective.Length > 0 && !ViewsDisabled ? BuildView(effective) ?? default : default,
        };
        if (sharedResolutions.Count >= MaxSharedResolutions || Volatile.Read(ref sharedViewBytes) >= MaxSharedViewBytes)
        {
            return resolution;
        }

        shared = sharedResolutions.GetOrAdd(key, resolution);
        if (ReferenceEquals(shared, resolution))
        {
            Interlocked.Add(ref sharedViewBytes, resolution.View.Bytes);
        }

        return shared;
    }

    /// <summary>How many resolutions the policy shares (for tests of the bound).</summary>
    internal int SharedResolutionCount => sharedResolutions.Count;

    /// <summary>The view of a set of effective roles (sorted, distinct), or null when it would exceed the view bounds.</summary>
    internal SubjectView? BuildView(int[] effective)
    {
        var actions = ActionsNamedBy(effective);
        if (actions.Count + 1 > SubjectView.MaxRuns)
        {
            return null;
        }

        actions.Add(-1); // the fallback run: every action no rule names exactly
        var runs = new ViewRun[actions.Count];
        var viewRules = new List<ViewRule>();
        var infos = new List<ViewRuleInfo>();
        var chars = new List<char>();
        for (int a = 0; a < actions.Count; a++)
        {
            int denyStart = viewRules.Count;
            if (!AppendAll(actions[a], deny: true))
            {
                return null;
            }

            int allowStart = viewRules.Count;
            if (!AppendAll(actions[a], deny: false))
            {
                return null;
            }

            runs[a] = new ViewRun(actions[a], denyStart, allowStart, viewRules.Count);
        }

        // Every role's rules of one kind, roles in file order (the effective set is sorted by declaration).
        bool AppendAll(int actionId, bool deny)
        {
            foreach (int r in effective)
            {
                if (!AppendRules(r, actionId, deny, viewRules, infos, chars))
                {
                    return false; // hashed runs of exact names stay with the role-by-role path
                }
            }

            return viewRules.Count <= SubjectView.MaxRules && chars.Count <= SubjectView.MaxChars;
        }

        return new SubjectView(runs, [.. viewRules], [.. infos], [.. chars]);
    }

    /// <summary>The actions the roles' rules name exactly, each once.</summary>
    private List<int> ActionsNamedBy(int[] effective)
    {
        var actions = new List<int>();
        foreach (int r in effective)
        {
            ref readonly var role = ref roles[r];
            for (int i = role.SlotStart; i < role.SlotStart + role.SlotCount; i++)
            {
                if (!actions.Contains(slots[i].ActionId))
                {
                    actions.Add(slots[i].ActionId);
                }
            }
        }

        return actions;
    }

    /// <summary>
    /// Appends one role's denies (or grants) that can apply to an action — those naming it exactly and those whose action
    /// pattern matches it; for the fallback run (-1), those with a wildcard action — in file order, since within a role
    /// the first matching rule decides. False when the role keeps a hashed run of exact names.
    /// </summary>
    private bool AppendRules(int r, int actionId, bool deny, List<ViewRule> viewRules, List<ViewRuleInfo> infos, List<char> chars)
    {
        ref readonly var role = ref roles[r];
        int slot = SlotOf(in role, actionId);
        var exact = slot < 0 ? default : deny ? slots[slot].Deny : slots[slot].Allow;
        var any = deny ? role.AnyDeny : role.AnyAllow;
        if (exact.Exact is not null || any.Exact is not null)
        {
            return false;
        }

        var picked = new List<int>(exact.Count + any.Count);
        for (int k = exact.Start; k < exact.Start + exact.Count; k++)
        {
            picked.Add(k);
        }

        for (int k = any.Start; k < any.Start + any.Count; k++)
        {
            if (actionId < 0 || rules[k].ActionId == AnyAction || GlobMatchesAction(rules[k].ActionGlob, actionId))
            {
                picked.Add(k);
            }
        }

        picked.Sort((x, y) => rules[x].Order.CompareTo(rules[y].Order));
        foreach (int k in picked)
        {
            var (rule, info) = ToViewRule(k, r, actionId < 0, chars);
            viewRules.Add(rule);
            infos.Add(info);
        }

        return true;
    }

    private (ViewRule Rule, ViewRuleInfo Info) ToViewRule(int k, int r, bool fallback, List<char> chars)
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
            new ViewRuleInfo(k, actionGlob, rule.ResourcePattern, rule.CatalogEntry, rule.CatalogCandidates, roles[r].Ceiling, roles[r].Clearances));
    }

    /// <summary>Steps 6–8 for a subject with a view; the same answers as <see cref="DecideForRoles"/>.</summary>
    private Decision DecideView(Subject subject, ResolvedSubject resolved, ref Request request)
    {
        var view = resolved.View;
        var runs = view.Runs!;
        int last = runs.Length - 1;
        int i = 0;
        while (i < last && runs[i].ActionId != request.ActionId)
        {
            i++;
        }

        var run = runs[i];
        var viewRules = view.Rules;
        var infos = view.Infos;
        string name = request.Resource.Name;
        for (int k = run.DenyStart; k < run.AllowStart; k++)
        {
            ref readonly var rule = ref viewRules[k];
            if ((!rule.TestAction || ViewActionMatches(infos[k].ActionGlob, ref request)) && ViewResourceMatches(in rule, infos, k, view.Chars, name))
            {
                return new Decision(this, DecisionReason.ExplicitDeny, rule.Role, infos[k].Rule);
            }
        }

        if (IsOwnerConflict(subject, ref request))
        {
            return new Decision(this, DecisionReason.OwnerConflict);
        }

        int judged = -1;
        var grants = new GrantJudgement();
        for (int k = run.AllowStart; k < run.End; k++)
        {
            ref readonly var rule = ref viewRules[k];

            // Each role is judged by its first matching grant only.
            if (rule.Role == judged
                || (rule.TestAction && !ViewActionMatches(infos[k].ActionGlob, ref request))
                || !ViewResourceMatches(in rule, infos, k, view.Chars, name))
            {
                continue;
            }

            judged = rule.Role;
            ref readonly var info = ref infos[k];
            if (!grants.AnyMatch)
            {
                Classify(ref request, info.CatalogEntry, info.CatalogCandidates);
            }

            if (grants.Allows(rule.Role, info.Rule, info.Ceiling, info.Clearances, ref request))
            {
                return new Decision(this, DecisionReason.Allowed, rule.Role, info.Rule, request.Tier);
            }
        }

        return grants.Denied(this, ref request);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ViewActionMatches(int actionGlob, ref Request request)
        => request.ActionId >= 0 && actionGlobMatches.Length != 0
            ? actionGlobMatches[(actionGlob * actionCount) + request.ActionId]
            : actionGlobs[actionGlob].IsMatch(request.Action);

    /// <summary>Whether an action glob matches an interned action: from the table, or matched when the table was too large to build.</summary>
    private bool GlobMatchesAction(int actionGlob, int actionId)
        => actionGlobMatches.Length != 0
            ? actionGlobMatches[(actionGlob * actionCount) + actionId]
            : actionGlobs[actionGlob].IsMatch(actionNames[actionId]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ViewResourceMatches(in ViewRule rule, ViewRuleInfo[] infos, int index, char[] chars, string name)
    {
        var shape = rule.Shape;
        if (shape == PatternShape.All)
        {
            return true;
        }

        if (shape == PatternShape.General)
        {
            return infos[index].Pattern!.MatchGeneral(name);
        }

        int length = rule.PrefixLength;
        if (name.Length < length || (shape == PatternShape.Exact && name.Length != length))
        {
            return false;
        }

        // The rules of one run mostly share their start (the resource type): their last four characters tell them
        // apart in one comparison, before the call that compares the rest.
        if (length >= ViewRule.TailLength && TailOf(name.AsSpan(0, length)) != rule.Tail)
        {
            return false;
        }

        return name.AsSpan(0, length).SequenceEqual(chars.AsSpan(rule.PrefixStart, length))
            && (shape != PatternShape.PrefixNoSlash || name.AsSpan(length).IndexOf('/') < 0);
    }

    /// <summary>The last <see cref="ViewRule.TailLength"/> characters of a text at least that long, as one number.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong TailOf(ReadOnlySpan<char> text)
        => MemoryMarshal.Read<ulong>(MemoryMarshal.AsBytes(text[^ViewRule.TailLength..]));
}
