using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace AiRbac;

/// <summary>
/// Step 10, approvals (docs/policy-language.md, section 13): a request the chain allows that an approval rule matches is
/// allowed only when it carries enough valid approvals of that rule: by distinct subjects, none of them in the chain, each
/// holding an approver role in the policy's bindings (for the request's scope, now, through roles without conditions and
/// not break-glass, breaking no <c>mutually_exclusive</c> list), given at most <c>valid_for</c> ago and not in the future.
/// </summary>
public sealed partial class CompiledPolicy
{
    private const int MaxApprovals = Tuning.Language.MaxApprovals;

    private readonly CompiledApproval[] approvalRules;
    private readonly bool[] approvalByActionId;

    /// <summary>The approval rules (version 2, docs/policy-language.md, section 13), in file order; empty for none.</summary>
    public IReadOnlyList<ApprovalRuleInfo> ApprovalRules { get; }

    /// <summary>
    /// The subjects of the policy's <c>bindings</c> that can approve <paramref name="rule"/> at <paramref name="at"/> for a
    /// request in some scope (unscoped, or one their bindings name): exactly the test step 10 applies to an approver
    /// (docs/policy-language.md, section 13), asked for every scope. Lint (<c>approval_unsatisfiable</c>,
    /// <c>approvers_below_count</c>), <c>airbac matrix</c> and the access review list approvers with it. Cold path.
    /// </summary>
    /// <param name="rule">An approval rule of this policy.</param>
    /// <param name="at">The time, or <see langword="null"/> for now by the policy's clock.</param>
    /// <returns>The subject ids, in the order of <see cref="BoundSubjects"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="rule"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="rule"/> is not an approval rule of this policy.</exception>
    public IReadOnlyList<string> Approvers(ApprovalRuleInfo rule, DateTimeOffset? at = null)
    {
        ArgumentNullException.ThrowIfNull(rule);
        int index = -1;
        for (int i = 0; i < ApprovalRules.Count; i++)
        {
            index = ReferenceEquals(ApprovalRules[i], rule) ? i : index;
        }

        if (index < 0)
        {
            throw new ArgumentException($"approval rule '{rule.Name}' is not a rule of this policy", nameof(rule));
        }

        long now = Ticks(at);
        var compiled = approvalRules[index];
        var result = new List<string>();
        foreach (var subject in BoundSubjects)
        {
            var scopes = BindingsOf(subject).Select(b => b.Scope).Prepend(null).Distinct();
            if (scopes.Any(scope => CanApprove(subject.Id, compiled.ApproverRoles, scope, now)))
            {
                result.Add(subject.Id);
            }
        }

        return result;
    }

    /// <summary>The approval rule with index <paramref name="index"/> (for <see cref="Decision.ApprovalRule"/>), or <see langword="null"/>.</summary>
    internal CompiledApproval? ApprovalRuleAt(int index) => (uint)index < (uint)approvalRules.Length ? approvalRules[index] : null;

    /// <summary>Step 2's part: at most <see cref="MaxApprovals"/> approvals, each naming an approver and a rule.</summary>
    private static bool AreValidApprovals(RequestContext context)
    {
        var approvals = context.ApprovalSpan;
        if (approvals.Length > MaxApprovals)
        {
            return false;
        }

        foreach (ref readonly var approval in approvals)
        {
            if (approval.Approver is null || approval.Rule is null)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Step 10 for a request the whole chain allows (<paramref name="allowed"/>): every approval rule that matches it, in
    /// file order, must count enough approvals; the first that does not gives <c>approval_required</c>. An allowed decision
    /// names the first rule that matched (and the approvals that counted for it).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Decision CheckApprovals(Decision allowed, Subject subject, ref Request request)
    {
        if (request.ActionId >= 0 && approvalByActionId.Length != 0 && !approvalByActionId[request.ActionId])
        {
            return allowed;
        }

        int first = -1, firstMask = 0;
        for (int i = 0; i < approvalRules.Length; i++)
        {
            var rule = approvalRules[i];
            if (!rule.Matches(request.Action, request.Name))
            {
                continue;
            }

            int mask = CountedApprovals(rule, subject, ref request, out int count);
            if (count < rule.Count)
            {
                return allowed.WithApproval(DecisionReason.ApprovalRequired, i, mask);
            }

            if (first < 0)
            {
                first = i;
                firstMask = mask;
            }
        }

        return first < 0 ? allowed : allowed.WithApproval(DecisionReason.Allowed, first, firstMask);
    }

    /// <summary>The request's approvals that count for <paramref name="rule"/> (a bit per index) and how many there are.</summary>
    private int CountedApprovals(CompiledApproval rule, Subject subject, ref Request request, out int count)
    {
        count = 0;
        if (request.Context is not { } context)
        {
            return 0;
        }

        var approvals = context.ApprovalSpan;
        long now = request.Now(timeProvider);
        int mask = 0;
        for (int j = 0; j < approvals.Length; j++)
        {
            ref readonly var approval = ref approvals[j];
            long at = approval.At.UtcTicks;
            if (!string.Equals(approval.Rule, rule.Name, StringComparison.Ordinal) || at > now || now - at >= rule.ValidTicks
                || InChain(subject, approval.Approver) || CountedAlready(approvals, mask, j)
                || !CanApprove(approval.Approver, rule.ApproverRoles, request.Scope, now))
            {
                continue;
            }

            mask |= 1 << j;
            count++;
        }

        return mask;
    }

    /// <summary>Whether <paramref name="id"/> is the requester or any subject down its on-behalf-of chain.</summary>
    private static bool InChain(Subject subject, string id)
    {
        for (var link = subject; link is not null; link = link.OnBehalfOf)
        {
            if (string.Equals(link.Id, id, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether an earlier counted approval (in <paramref name="mask"/>) has the same approver as approval <paramref name="index"/>.</summary>
    private static bool CountedAlready(ReadOnlySpan<Approval> approvals, int mask, int index)
    {
        for (int k = 0; k < index; k++)
        {
            if ((mask & (1 << k)) != 0 && string.Equals(approvals[k].Approver, approvals[index].Approver, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether the policy subject <paramref name="approverId"/> may approve for a request in <paramref name="scope"/> at
    /// <paramref name="now"/>: its bindings in the policy, in effect as step 3 reads them, reach a role of
    /// <paramref name="approverRoles"/> through roles that have no conditions and are not break-glass (an approval carries
    /// no context of the approver's), and its effective roles break no <c>mutually_exclusive</c> list. Lint asks the same.
    /// </summary>
    internal bool CanApprove(string approverId, int[] approverRoles, string? scope, long now)
    {
        if (approverId is null || !policySubjects.TryGetValue(approverId, out var known))
        {
            return false;
        }

        var kind = known.Kind;
        var when = new BindingClock(null, now, scope);
        var set = new RoleSetBuilder(stackalloc int[StackRoles]);
        var seeds = new RoleSetBuilder(stackalloc int[StackRoles]);
        foreach (var binding in known.Bindings)
        {
            int role = roleIds.Find(binding.Role);
            if (role >= 0 && when.Applies(binding.Scope, binding.Expires, binding.Never))
            {
                set.Append(ClosureOf(role, kind));
                seeds.Append(role);
            }
        }

        var held = set.SortedDistinct();
        bool approves = held.Length > 0 && FindExclusiveConflict(held, out _) < 0 && ReachesUngated(held, seeds.Appended, kind, approverRoles);
        set.Dispose();
        seeds.Dispose();
        return approves;
    }

    /// <summary>
    /// What asking <see cref="CanApprove"/> for the bound subject <paramref name="subjectId"/> costs in every scope
    /// <see cref="Approvers"/> tries (its distinct binding scopes and none), in units of
    /// <see cref="Tuning.Compile.ApproverCheckRoles"/> roles: per scope, one check plus the roles its bindings make
    /// effective (each binding's closure). The approver lint budgets with it (<see cref="Tuning.Compile.MaxApproverChecks"/>).
    /// </summary>
    internal long ApproverCheckCost(string subjectId)
    {
        if (!policySubjects.TryGetValue(subjectId, out var known))
        {
            return 1;
        }

        long closures = Tuning.Compile.ApproverCheckRoles;
        var scopes = new HashSet<string?> { null };
        foreach (var binding in known.Bindings)
        {
            int role = roleIds.Find(binding.Role);
            closures += role < 0 ? 1 : ClosureOf(role, known.Kind).Length;
            if (!binding.Never)
            {
                scopes.Add(binding.Scope);
            }
        }

        return scopes.Count * closures;
    }

    /// <summary>Whether a role of <paramref name="targets"/> is reached from <paramref name="seeds"/> without entering a gated role (step 3's walk, every gate closed).</summary>
    private bool ReachesUngated(ReadOnlySpan<int> held, ReadOnlySpan<int> seeds, SubjectKind kind, int[] targets)
    {
        int n = held.Length;
        byte[]? rentedState = null;
        int[]? rentedStack = null;
        Span<byte> state = n <= StackRoles ? stackalloc byte[StackRoles] : (rentedState = ArrayPool<byte>.Shared.Rent(n));
        Span<int> stack = n <= StackRoles ? stackalloc int[StackRoles] : (rentedStack = ArrayPool<int>.Shared.Rent(n));
        state = state[..n];
        state.Clear();
        var none = new Request(string.Empty, default, null);
        Walk(held, (byte)(1 << (int)kind), seeds, state, stack, GateUngated, string.Empty, ref none);
        bool reached = false;
        foreach (int target in targets)
        {
            int at = held.BinarySearch(target);
            reached |= at >= 0 && (state[at] & GateUngated) != 0;
        }

        if (rentedState is not null)
        {
            ArrayPool<byte>.Shared.Return(rentedState);
        }

        if (rentedStack is not null)
        {
            ArrayPool<int>.Shared.Return(rentedStack);
        }

        return reached;
    }

    /// <summary>Why an approval rule stopped an allowed request (for <see cref="Decision.Explain"/>).</summary>
    private string ApprovalNeeded(int index)
    {
        var rule = approvalRules[index];
        string roles = string.Join(", ", rule.ApproverRoles.Select(r => this.roles[r].Name));
        string approvers = rule.Count == 1 ? "an approval by a holder" : string.Create(CultureInfo.InvariantCulture, $"approvals by {rule.Count} distinct holders");
        return $"approval rule '{rule.Name}' ({rule.Location}) needs {approvers} of {roles}, given within {Duration.Format(TimeSpan.FromTicks(rule.ValidTicks))}, by none of the subjects of the request; it carries fewer valid approvals";
    }
}
