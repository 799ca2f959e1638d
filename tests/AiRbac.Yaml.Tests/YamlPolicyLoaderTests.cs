using AiRbac.Model;

namespace AiRbac.Yaml.Tests;

public sealed class YamlPolicyLoaderTests
{
    private static PolicyDocument LoadSpecExample()
    {
        var result = LoadAssertions.Load(Policies.SpecExample);
        result.Diagnostics.Should().BeEmpty();
        result.Succeeded.Should().BeTrue();
        return result.Document!;
    }

    private static SourceLocation At(string needle, int occurrence = 1)
    {
        var (line, column) = Policies.Find(Policies.SpecExample, needle, occurrence);
        return new SourceLocation(LoadAssertions.Source, line, column);
    }

    private static LocatedString Value(string value, int occurrence = 1) => new(value, At(value, occurrence));

    [Fact]
    public void Load_SpecExample_ReadsTopLevelValues()
    {
        var document = LoadSpecExample();

        document.SourceName.Should().Be(LoadAssertions.Source);
        document.Version.Should().Be(new LocatedString("1", new SourceLocation(LoadAssertions.Source, 1, 10)));
        document.Sensitivity.Should().Equal(
            Value("public"), Value("internal"), Value("confidential"), Value("restricted"));
        document.DefaultSensitivity.Should().Be(Value("public", 2));
    }

    [Fact]
    public void Load_SpecExample_ReadsRolesInFileOrderWithLocations()
    {
        var document = LoadSpecExample();

        document.Roles.Select(r => r.Name.Value).Should().Equal(
            "viewer", "analyst", "clinician", "release-bot", "policy-engineer", "deploy-approver", "admin");
        document.Roles.Select(r => r.Location).Should().Equal(
            At("viewer:"), At("analyst:"), At("clinician:"), At("release-bot:"), At("policy-engineer:"), At("deploy-approver:"), At("admin:"));
        document.Roles[0].Name.Location.Should().Be(new SourceLocation(LoadAssertions.Source, 6, 3));
    }

    [Fact]
    public void Load_SpecExample_ReadsRoleFields()
    {
        var document = LoadSpecExample();
        var viewer = document.Roles[0];
        var analyst = document.Roles[1];
        var clinician = document.Roles[2];
        var releaseBot = document.Roles[3];

        viewer.Description.Should().Be("Read approved outputs");
        viewer.Id.Should().BeNull();
        viewer.Allow.Should().Equal(Value("data:read on output:*"));
        viewer.Deny.Should().BeEmpty();
        viewer.MaxSensitivity.Should().Be(Value("internal", 2));
        viewer.Kinds.Should().BeNull();
        viewer.Clearances.Should().BeEmpty();

        analyst.Id.Should().Be(Value("r-analyst"));
        analyst.Inherits.Should().Equal(new LocatedString("viewer", At("[viewer]") with { Column = At("[viewer]").Column + 1 }));
        analyst.Allow.Should().Equal(
            Value("model:query on model:gpt-4o"), Value("tool:invoke on tool:search"), Value("tool:invoke on tool:report_*"));
        analyst.Deny.Should().Equal(Value("tool:invoke on tool:dangerous_*"));
        analyst.MaxSensitivity.Should().Be(Value("confidential", 2));
        analyst.Description.Should().BeNull();

        // A quoted flow item is located at its opening quote and read without the quotes.
        clinician.Allow.Should().Equal(new LocatedString("model:query on model:clinical-*", At("\"model:query on model:clinical-*\"")));
        clinician.Clearances.Should().Equal(new LocatedString("phi", At("[phi]") with { Column = At("[phi]").Column + 1 }));

        releaseBot.Kinds.Should().Equal(Value("service"));
        document.Roles[6].Kinds.Should().Equal(Value("user"));
        document.Roles[6].Allow.Select(a => a.Value).Should().Equal("* on **");
        document.Roles[6].Clearances.Select(c => c.Value).Should().Equal("phi", "pii");
    }

    [Fact]
    public void Load_SpecExample_ReadsResourceCatalog()
    {
        var document = LoadSpecExample();

        document.Resources.Should().HaveCount(2);
        var claims = document.Resources[0];
        claims.Match.Should().Be(Value("dataset:claims/**"));
        claims.Sensitivity.Should().Be(Value("restricted", 3));
        claims.Tags.Select(t => t.Value).Should().Equal("phi");
        claims.Location.Should().Be(At("match: dataset:claims/**"));
        document.Resources[1].Match.Should().Be(Value("model:clinical-*", 2));
        document.Resources[1].Location.Should().Be(new SourceLocation(LoadAssertions.Source, 43, 5));
    }

    [Fact]
    public void Load_SpecExample_ReadsConstraints()
    {
        var constraints = LoadSpecExample().Constraints;

        constraints.MutuallyExclusive.Should().ContainSingle();
        var set = constraints.MutuallyExclusive[0];
        set.Location.Should().Be(new SourceLocation(LoadAssertions.Source, 49, 7));
        set.Roles.Should().Equal(Value("policy-engineer", 2), Value("deploy-approver", 2));
        constraints.NotByOwner.Should().Equal(Value("config:approve", 2), Value("model:promote"));
        constraints.MinHolders.Should().Equal(new MinHoldersRequirement(Value("admin", 3), new LocatedString("2", new SourceLocation(LoadAssertions.Source, 51, 25))));
    }

    [Fact]
    public void Load_SpecExample_ReadsBindings()
    {
        var bindings = LoadSpecExample().Bindings;

        bindings.Groups.Should().ContainSingle();
        var research = bindings.Groups[0];
        research.Name.Should().Be(Value("research"));
        research.Location.Should().Be(At("research"));
        research.Roles.Should().ContainSingle();
        research.Roles[0].Role.Should().Be(Value("analyst", 3));
        research.Roles[0].Location.Should().Be(At("analyst", 3));
        research.Roles[0].Scope.Should().BeNull();

        bindings.Subjects.Select(s => s.Id.Value).Should().Equal("alice", "bob", "nightly-pipeline");
        var alice = bindings.Subjects[0];
        alice.Location.Should().Be(At("alice:"));
        alice.Kind.Should().Be(Value("user", 2));
        alice.Roles.Select(r => r.Role).Should().Equal(Value("analyst", 4));
        alice.Groups.Should().Equal(Value("research", 2));
        alice.Scope.Should().BeNull();
        alice.Expires.Should().BeNull();

        var pipeline = bindings.Subjects[2];
        pipeline.Kind.Should().Be(Value("service", 3));
        pipeline.Roles.Select(r => r.Role).Should().Equal(Value("release-bot", 2));
        pipeline.Scope.Should().Be(Value("acme/product-design"));
        pipeline.Expires.Should().Be(Value("2099-12-31T00:00:00Z"));
    }

    [Fact]
    public void Load_RoleBindingObjects_ReadsRoleScopeAndExpires()
    {
        const string yaml = """
            version: 1
            roles:
              admin: {}
            bindings:
              groups:
                ops:
                  - admin
                  - role: admin
                    scope: acme/pd
                    expires: 2026-12-31T00:00:00Z
            """;

        var result = LoadAssertions.Load(yaml);

        result.Diagnostics.Should().BeEmpty();
        var roles = result.Document!.Bindings.Groups[0].Roles;
        roles.Should().HaveCount(2);
        roles[0].Location.Should().Be(new SourceLocation(LoadAssertions.Source, 7, 9));
        roles[1].Role.Should().Be(new LocatedString("admin", new SourceLocation(LoadAssertions.Source, 8, 15)));
        roles[1].Scope.Should().Be(new LocatedString("acme/pd", new SourceLocation(LoadAssertions.Source, 9, 16)));
        roles[1].Expires!.Value.Value.Should().Be("2026-12-31T00:00:00Z");
        roles[1].Location.Should().Be(new SourceLocation(LoadAssertions.Source, 8, 9));
    }

    [Fact]
    public void Load_YamlCoreSchemaWords_KeepsThemAsStrings()
    {
        const string yaml = """
            version: 1
            roles:
              yes:
                description: null
                inherits: [on, ~, "off", false]
                max_sensitivity: 0x1F
                kinds: [Null, NO, 1e3]
              ~:
                id: .inf
            """;

        var result = LoadAssertions.Load(yaml);

        result.Diagnostics.Should().BeEmpty();
        var roles = result.Document!.Roles;
        roles.Select(r => r.Name.Value).Should().Equal("yes", "~");
        roles[0].Description.Should().Be("null");
        roles[0].Inherits.Select(i => i.Value).Should().Equal("on", "~", "off", "false");
        roles[0].MaxSensitivity!.Value.Value.Should().Be("0x1F");
        roles[0].Kinds!.Select(k => k.Value).Should().Equal("Null", "NO", "1e3");
        roles[1].Id!.Value.Value.Should().Be(".inf");
    }

    [Fact]
    public void Load_EmptyScalarValue_IsEmptyString()
    {
        const string yaml = """
            version: 1
            roles:
              viewer:
                description:
                max_sensitivity:
            """;

        var role = LoadAssertions.Load(yaml).Document!.Roles[0];

        role.Description.Should().BeEmpty();
        role.MaxSensitivity.Should().Be(new LocatedString(string.Empty, new SourceLocation(LoadAssertions.Source, 5, 21)));
    }

    [Fact]
    public void Load_BlockAndQuotedScalars_KeepsTheirValues()
    {
        const string yaml = """
            version: 1
            roles:
              viewer:
                description: >-
                  Reads
                  outputs
                allow:
                  - 'data:read on output:*'
                  - "model:query\ton model:x"
            """;

        var role = LoadAssertions.Load(yaml).Document!.Roles[0];

        role.Description.Should().Be("Reads outputs");
        role.Allow.Select(a => a.Value).Should().Equal("data:read on output:*", "model:query\ton model:x");
        role.Allow[0].Location.Should().Be(new SourceLocation(LoadAssertions.Source, 8, 9));
    }

    [Fact]
    public void Load_AliasOfAnchoredList_SharesValuesWithTheAnchorLocations()
    {
        const string yaml = """
            version: 1
            roles:
              a:
                allow: &common
                  - data:read on output:*
              b:
                allow: *common
            """;

        var result = LoadAssertions.Load(yaml);

        result.Diagnostics.Should().BeEmpty();
        var roles = result.Document!.Roles;
        roles[1].Allow.Should().Equal(roles[0].Allow);
        roles[1].Allow[0].Location.Should().Be(new SourceLocation(LoadAssertions.Source, 5, 9));
    }

    [Fact]
    public void Load_ExplicitDocumentMarkers_AreAccepted()
    {
        var result = LoadAssertions.Load("%YAML 1.2\n---\n" + Policies.Minimal + "\n...\n");

        result.Diagnostics.Should().BeEmpty();
        result.Document!.Roles[0].Location.Should().Be(new SourceLocation(LoadAssertions.Source, 5, 3));
    }

    [Fact]
    public void Load_QuotedMergeKeyAsRoleName_IsAName()
    {
        const string yaml = """
            version: 1
            roles:
              "<<": {}
            """;

        LoadAssertions.Load(yaml).Document!.Roles[0].Name.Value.Should().Be("<<");
    }

    [Fact]
    public void Load_OptionalSectionsAbsent_UsesEmptyDefaults()
    {
        var document = LoadAssertions.Load(Policies.Minimal).Document!;

        document.Sensitivity.Should().BeNull();
        document.DefaultSensitivity.Should().BeNull();
        document.Resources.Should().BeEmpty();
        document.Constraints.MutuallyExclusive.Should().BeEmpty();
        document.Bindings.Subjects.Should().BeEmpty();
        document.Roles[0].Allow.Should().BeEmpty();
    }

    [Fact]
    public void Load_EmptyListsGiven_KeepsThemEmptyNotNull()
    {
        const string yaml = """
            version: 1
            sensitivity: []
            roles:
              viewer: { kinds: [] }
            """;

        var document = LoadAssertions.Load(yaml).Document!;

        // Whether an empty list is allowed is the compiler's call; the loader keeps "given but empty" apart from "absent".
        document.Sensitivity.Should().NotBeNull().And.BeEmpty();
        document.Roles[0].Kinds.Should().NotBeNull().And.BeEmpty();
    }

    [Fact]
    public void LoadFile_Scale0Policy_LoadsWithoutErrors()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestData", "scale-0", "policy.yaml");

        var result = YamlPolicyLoader.LoadFile(path);

        result.Diagnostics.Should().BeEmpty();
        result.Succeeded.Should().BeTrue();
        result.Document!.SourceName.Should().Be(path);
        result.Document.Roles.Should().NotBeEmpty();
        result.Document.Roles[0].Location.Should().Be(new SourceLocation(path, 7, 3));
    }
}
