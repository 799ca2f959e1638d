using AiRbac.Model;

namespace AiRbac.Core.Tests;

/// <summary>Compact construction of policy documents in code. Each value gets a distinct line so locations can be asserted.</summary>
internal sealed class TestPolicy
{
    private int line;

    public List<RoleDefinition> Roles { get; } = [];

    public List<ResourceClassification> Resources { get; } = [];

    public List<ExclusiveRoleSet> Exclusive { get; } = [];

    public List<LocatedString> NotByOwner { get; } = [];

    public List<MinHoldersRequirement> MinHolders { get; } = [];

    public List<GroupDefinition> Groups { get; } = [];

    public List<SubjectDefinition> Subjects { get; } = [];

    public List<string>? Tiers { get; set; }

    public string? DefaultTier { get; set; }

    public string Version { get; set; } = "1";

    public List<ContextKeyDefinition>? ContextKeys { get; set; }

    public List<ApprovalRuleDefinition>? ApprovalRules { get; set; }

    public LocatedString L(string value) => new(value, new SourceLocation("test.yaml", ++line, 3));

    public List<LocatedString> Ls(params string[] values) => [.. values.Select(L)];

    public TestPolicy Role(string name, string[]? allow = null, string[]? deny = null, string? max = null, string[]? clearances = null,
        string[]? inherits = null, string[]? kinds = null, string? id = null)
    {
        var located = L(name);
        Roles.Add(new RoleDefinition
        {
            Name = located,
            Id = id is null ? null : L(id),
            Allow = Ls(allow ?? []),
            Deny = Ls(deny ?? []),
            MaxSensitivity = max is null ? null : L(max),
            Clearances = Ls(clearances ?? []),
            Inherits = Ls(inherits ?? []),
            Kinds = kinds is null ? null : Ls(kinds),
            Location = located.Location,
        });
        return this;
    }

    /// <summary>Declares a context key (and makes the policy version 2).</summary>
    public TestPolicy Context(string name, string type)
    {
        Version = "2";
        (ContextKeys ??= []).Add(new ContextKeyDefinition { Name = L(name), Type = L(type) });
        return this;
    }

    /// <summary>Gives an already declared role conditions (and makes the policy version 2).</summary>
    public TestPolicy Gate(string role, params ConditionDefinition[] conditions)
    {
        Version = "2";
        int at = Roles.FindIndex(r => r.Name.Value == role);
        var r = Roles[at];
        Roles[at] = new RoleDefinition
        {
            Name = r.Name,
            Id = r.Id,
            Allow = r.Allow,
            Deny = r.Deny,
            MaxSensitivity = r.MaxSensitivity,
            Clearances = r.Clearances,
            Inherits = r.Inherits,
            Kinds = r.Kinds,
            Location = r.Location,
            Conditions = conditions,
            BreakGlass = r.BreakGlass,
        };
        return this;
    }

    /// <summary>Adds an approval rule (and makes the policy version 2).</summary>
    public TestPolicy Approval(string name, string[] match, string[] approvers, string? count = null, string validFor = "4h")
    {
        Version = "2";
        var located = L(name);
        (ApprovalRules ??= []).Add(new ApprovalRuleDefinition
        {
            Name = located,
            Match = Ls(match),
            Approvers = Ls(approvers),
            Count = count is null ? null : L(count),
            ValidFor = L(validFor),
            Location = located.Location,
        });
        return this;
    }

    /// <summary>Makes an already declared role break-glass with the given maximum activation (and the policy version 2).</summary>
    public TestPolicy BreakGlass(string role, string maxActivation)
    {
        Version = "2";
        int at = Roles.FindIndex(r => r.Name.Value == role);
        var r = Roles[at];
        Roles[at] = new RoleDefinition
        {
            Name = r.Name,
            Id = r.Id,
            Allow = r.Allow,
            Deny = r.Deny,
            MaxSensitivity = r.MaxSensitivity,
            Clearances = r.Clearances,
            Inherits = r.Inherits,
            Kinds = r.Kinds,
            Location = r.Location,
            Conditions = r.Conditions,
            BreakGlass = new BreakGlassDefinition { MaxActivation = L(maxActivation), Location = L("break_glass").Location },
        };
        return this;
    }

    /// <summary>A condition of one value (<paramref name="values"/> of one) or a list.</summary>
    public ConditionDefinition Cond(string key, params string[] values)
    {
        var located = L(key);
        return new ConditionDefinition { Key = located, Values = Ls(values), IsList = values.Length > 1, Location = located.Location };
    }

    /// <summary>An integer range condition.</summary>
    public ConditionDefinition Range(string key, string? min, string? max)
    {
        var located = L(key);
        return new ConditionDefinition { Key = located, Min = min is null ? null : L(min), Max = max is null ? null : L(max), IsRange = true, Location = located.Location };
    }

    public TestPolicy Catalog(string match, string? sensitivity = null, params string[] tags)
    {
        var located = L(match);
        Resources.Add(new ResourceClassification { Match = located, Sensitivity = sensitivity is null ? null : L(sensitivity), Tags = Ls(tags), Location = located.Location });
        return this;
    }

    public TestPolicy MutuallyExclusive(params string[] roles)
    {
        var list = Ls(roles);
        Exclusive.Add(new ExclusiveRoleSet { Roles = list, Location = list.Count > 0 ? list[0].Location : L("x").Location });
        return this;
    }

    public TestPolicy Owner(params string[] actions)
    {
        NotByOwner.AddRange(Ls(actions));
        return this;
    }

    public TestPolicy Group(string name, params string[] roles)
    {
        Groups.Add(new GroupDefinition { Name = L(name), Roles = [.. roles.Select(r => new RoleBindingDefinition { Role = L(r) })] });
        return this;
    }

    public TestPolicy BoundSubject(string id, string? kind = null, string[]? roles = null, string[]? groups = null, string? scope = null, string? expires = null)
    {
        Subjects.Add(new SubjectDefinition
        {
            Id = L(id),
            Kind = kind is null ? null : L(kind),
            Roles = [.. (roles ?? []).Select(r => new RoleBindingDefinition { Role = L(r) })],
            Groups = Ls(groups ?? []),
            Scope = scope is null ? null : L(scope),
            Expires = expires is null ? null : L(expires),
        });
        return this;
    }

    public PolicyDocument Document() => new()
    {
        SourceName = "test.yaml",
        Version = new LocatedString(Version, new SourceLocation("test.yaml", 1, 10)),
        Sensitivity = Tiers is null ? null : Ls([.. Tiers]),
        DefaultSensitivity = DefaultTier is null ? null : L(DefaultTier),
        Roles = Roles,
        Resources = Resources,
        Constraints = new PolicyConstraints { MutuallyExclusive = Exclusive, NotByOwner = NotByOwner, MinHolders = MinHolders },
        Bindings = new PolicyBindings { Groups = Groups, Subjects = Subjects },
        Context = ContextKeys,
        Approvals = ApprovalRules,
    };

    public PolicyCompilation Compile(TimeProvider? time = null)
        => PolicyCompiler.Compile(Document(), new PolicyCompilerOptions { TimeProvider = time ?? new FixedClock(Now) });

    public CompiledPolicy Build(TimeProvider? time = null)
    {
        var compilation = Compile(time);
        compilation.Errors.Should().BeEmpty();
        return compilation.Policy!;
    }

    public static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
}

/// <summary>A clock that says what it is told.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
