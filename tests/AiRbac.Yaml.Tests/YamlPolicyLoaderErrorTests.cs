using AiRbac.Diagnostics;

namespace AiRbac.Yaml.Tests;

/// <summary>Structural errors: every one with its code, line and column.</summary>
public sealed class YamlPolicyLoaderErrorTests
{
    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("---\n")]
    public void Load_EmptyDocument_ReportsMissingVersionAndRoles(string yaml)
    {
        var result = LoadAssertions.Load(yaml);

        result.Succeeded.Should().BeFalse();
        result.Positions().Select(p => p.Code).Should().Equal(DiagnosticCodes.MissingKey, DiagnosticCodes.MissingKey);
        result.Diagnostics.Select(d => d.Message).Should().Equal(
            "the policy needs the key 'version'", "the policy needs the key 'roles'");
    }

    [Fact]
    public void Load_EmptyFile_ReportsAtLineOneColumnOne()
    {
        LoadAssertions.Load(string.Empty).Positions().Should().Equal(
            (DiagnosticCodes.MissingKey, 1, 1), (DiagnosticCodes.MissingKey, 1, 1));
    }

    [Fact]
    public void Load_MissingVersion_ReportsMissingKeyAtTheTopMapping()
    {
        const string yaml = """
            # a policy
            roles:
              viewer: {}
            """;

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.MissingKey, 2, 1);
    }

    [Fact]
    public void Load_MissingRoles_ReportsMissingKey()
    {
        LoadAssertions.Load("version: 1\n").SingleError().ShouldBe(DiagnosticCodes.MissingKey, 1, 1);
    }

    [Theory]
    [InlineData("version: \"1\"", 1, 10)]
    [InlineData("version: '1'", 1, 10)]
    [InlineData("version: 3", 1, 10)]
    [InlineData("version: 1.0", 1, 10)]
    [InlineData("version: !!str 1", 1, 10)]
    [InlineData("version: !!int 1", 1, 10)]
    [InlineData("version: ! 1", 1, 10)]
    [InlineData("version:", 1, 9)]
    [InlineData("version: [1]", 1, 10)]
    [InlineData("version: |\n  1", 1, 10)]
    public void Load_VersionNotPlainOne_ReportsUnsupportedVersion(string version, int line, int column)
    {
        var result = LoadAssertions.Load(version + "\nroles:\n  viewer: {}\n");

        result.SingleError().ShouldBe(DiagnosticCodes.UnsupportedVersion, line, column);
    }

    [Fact]
    public void Load_QuotedVersion_SaysItIsQuoted()
    {
        var error = LoadAssertions.Load("version: \"1\"\nroles: {a: {}}\n").SingleError();

        error.Message.Should().Be("version must be the plain scalar 1 or 2, found the quoted string \"1\"");
        error.Location.Source.Should().Be(LoadAssertions.Source);
    }

    [Fact]
    public void Load_TopLevelList_ReportsWrongType()
    {
        LoadAssertions.Load("- version: 1\n").SingleError().ShouldBe(DiagnosticCodes.WrongType, 1, 1);
    }

    [Fact]
    public void Load_TopLevelScalar_ReportsWrongType()
    {
        LoadAssertions.Load("null\n").SingleError().ShouldBe(DiagnosticCodes.WrongType, 1, 1);
    }

    [Fact]
    public void Load_EmptyRolesMapping_ReportsEmptyValue()
    {
        LoadAssertions.Load("version: 1\nroles: {}\n").SingleError().ShouldBe(DiagnosticCodes.EmptyValue, 2, 8);
    }

    [Theory]
    [InlineData("roles:", 2, 7)]
    [InlineData("roles: []", 2, 8)]
    [InlineData("roles: viewer", 2, 8)]
    [InlineData("roles:\n  - viewer", 3, 3)]
    public void Load_RolesNotAMapping_ReportsWrongType(string roles, int line, int column)
    {
        LoadAssertions.Load("version: 1\n" + roles + "\n").SingleError().ShouldBe(DiagnosticCodes.WrongType, line, column);
    }

    [Fact]
    public void Load_UnknownTopLevelKey_ReportsUnknownKeyWithHint()
    {
        var error = LoadAssertions.Load(Policies.Minimal + "\nbinding: {}\n").SingleError();

        error.ShouldBe(DiagnosticCodes.UnknownKey, 4, 1);
        error.Message.Should().Be("unknown key 'binding' in the policy; did you mean 'bindings'?");
    }

    [Fact]
    public void Load_UnknownRoleKey_ReportsUnknownKeyWithHint()
    {
        const string yaml = """
            version: 1
            roles:
              viewer:
                alow: [a on b]
            """;

        var error = LoadAssertions.Load(yaml).SingleError();

        error.ShouldBe(DiagnosticCodes.UnknownKey, 4, 5);
        error.Message.Should().Be("unknown key 'alow' in roles.viewer; did you mean 'allow'?");
    }

    [Fact]
    public void Load_UnrelatedUnknownKey_ListsTheKnownKeys()
    {
        var error = LoadAssertions.Load("version: 1\nroles: {a: {}}\nconstraints: {zzz: 1}\n").SingleError();

        error.ShouldBe(DiagnosticCodes.UnknownKey, 3, 15);
        error.Message.Should().Be("unknown key 'zzz' in constraints; expected one of: mutually_exclusive, not_by_owner, min_holders");
    }

    [Fact]
    public void Load_MergeKeyInRole_ReportsUnknownKey()
    {
        const string yaml = """
            version: 1
            roles:
              base: &base
                allow: [a on b]
              child:
                <<: *base
                deny: [c on d]
            """;

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.UnknownKey, 6, 5);
    }

    [Fact]
    public void Load_MergeKeyAmongRoleNames_ReportsUnknownKey()
    {
        const string yaml = """
            version: 1
            roles:
              viewer: {}
              <<: {admin: {}}
            """;

        var error = LoadAssertions.Load(yaml).SingleError();

        error.ShouldBe(DiagnosticCodes.UnknownKey, 4, 3);
        error.Message.Should().Contain("merge keys");
    }

    [Fact]
    public void Load_DuplicateTopLevelKey_ReportsDuplicateKeyAtTheSecond()
    {
        const string yaml = """
            version: 1
            roles:
              a: {}
            roles:
              b: {}
            """;

        var error = LoadAssertions.Load(yaml).SingleError();

        error.ShouldBe(DiagnosticCodes.DuplicateKey, 4, 1);
        error.Message.Should().Be("duplicate key 'roles' in the policy (first at line 2, column 1)");
    }

    [Fact]
    public void Load_DuplicateRoleName_ReportsDuplicateKeyAtTheSecond()
    {
        const string yaml = """
            version: 1
            roles:
              viewer: {}
              admin: {}
              "viewer": {}
            """;

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.DuplicateKey, 5, 3);
    }

    [Fact]
    public void Load_DuplicateKeyInFlowMapping_ReportsDuplicateKey()
    {
        const string yaml = """
            version: 1
            roles: {a: {}}
            bindings:
              subjects:
                alice: { kind: user, kind: agent }
            """;

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.DuplicateKey, 5, 26);
    }

    [Fact]
    public void Load_NonScalarKey_ReportsWrongType()
    {
        const string yaml = """
            version: 1
            roles:
              ? [a, b]
              : {}
            """;

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.WrongType, 3, 5);
    }

    [Theory]
    [InlineData("allow: a on b", 4, 12)]
    [InlineData("allow:", 4, 11)]
    [InlineData("allow: {a: b}", 4, 12)]
    [InlineData("allow: [[a on b]]", 4, 13)]
    [InlineData("allow: [{a: b}]", 4, 13)]
    [InlineData("deny: x", 4, 11)]
    [InlineData("inherits: x", 4, 15)]
    [InlineData("clearances: x", 4, 17)]
    [InlineData("kinds: user", 4, 12)]
    [InlineData("description: [a]", 4, 18)]
    [InlineData("id: {a: b}", 4, 9)]
    [InlineData("max_sensitivity: [a]", 4, 22)]
    public void Load_RoleFieldOfWrongShape_ReportsWrongType(string field, int line, int column)
    {
        var yaml = "version: 1\nroles:\n  viewer:\n    " + field + "\n";

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.WrongType, line, column);
    }

    [Theory]
    [InlineData("viewer:", 3, 10)]
    [InlineData("viewer: x", 3, 11)]
    [InlineData("viewer: [x]", 3, 11)]
    public void Load_RoleBodyNotAMapping_ReportsWrongType(string role, int line, int column)
    {
        LoadAssertions.Load("version: 1\nroles:\n  " + role + "\n").SingleError().ShouldBe(DiagnosticCodes.WrongType, line, column);
    }

    [Theory]
    [InlineData("sensitivity: public", 1, 14)]
    [InlineData("sensitivity: [[public]]", 1, 15)]
    [InlineData("default_sensitivity: [public]", 1, 22)]
    [InlineData("resources: {match: x}", 1, 12)]
    [InlineData("resources: [x]", 1, 13)]
    [InlineData("resources: [{match: [x]}]", 1, 21)]
    [InlineData("resources: [{match: x, tags: x}]", 1, 30)]
    [InlineData("resources: [{match: x, sensitivity: [x]}]", 1, 37)]
    [InlineData("constraints: [x]", 1, 14)]
    [InlineData("constraints: {mutually_exclusive: [[viewer, admin], c]}", 1, 53)]
    [InlineData("constraints: {mutually_exclusive: [[viewer, [admin]]]}", 1, 45)]
    [InlineData("constraints: {not_by_owner: a}", 1, 29)]
    [InlineData("constraints: {min_holders: [a]}", 1, 28)]
    [InlineData("constraints: {min_holders: {a: [2]}}", 1, 32)]
    [InlineData("bindings: [x]", 1, 11)]
    [InlineData("bindings: {groups: [x]}", 1, 20)]
    [InlineData("bindings: {groups: {g: x}}", 1, 24)]
    [InlineData("bindings: {groups: {g: [[x]]}}", 1, 25)]
    [InlineData("bindings: {subjects: {s: x}}", 1, 26)]
    [InlineData("bindings: {subjects: {s: {roles: x}}}", 1, 34)]
    [InlineData("bindings: {subjects: {s: {groups: x}}}", 1, 35)]
    [InlineData("bindings: {subjects: {s: {kind: [x]}}}", 1, 33)]
    [InlineData("bindings: {subjects: {s: {scope: [x]}}}", 1, 34)]
    [InlineData("bindings: {subjects: {s: {expires: {}}}}", 1, 36)]
    [InlineData("bindings: {subjects: {s: {roles: [{role: [x]}]}}}", 1, 42)]
    public void Load_SectionOfWrongShape_ReportsWrongType(string section, int line, int column)
    {
        var yaml = section + "\nversion: 1\nroles: {viewer: {}, admin: {}}\n";

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.WrongType, line, column);
    }

    [Fact]
    public void Load_ResourceWithoutMatch_ReportsMissingKeyAtTheEntry()
    {
        const string yaml = """
            version: 1
            roles: {a: {}}
            resources:
              - match: model:*
              - sensitivity: restricted
                tags: [phi]
            """;

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.MissingKey, 5, 5);
    }

    [Fact]
    public void Load_RoleBindingObjectWithoutRole_ReportsMissingKey()
    {
        const string yaml = """
            version: 1
            roles: {a: {}}
            bindings:
              subjects:
                alice:
                  roles: [a, {scope: acme}]
            """;

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.MissingKey, 6, 18);
    }

    [Fact]
    public void Load_UnknownKeyInRoleBinding_ReportsUnknownKey()
    {
        const string yaml = """
            version: 1
            roles: {a: {}}
            bindings:
              groups:
                g:
                  - role: a
                    scopes: acme
            """;

        var error = LoadAssertions.Load(yaml).SingleError();

        error.ShouldBe(DiagnosticCodes.UnknownKey, 7, 9);
        error.Message.Should().EndWith("did you mean 'scope'?");
    }

    [Fact]
    public void Load_SecondDocument_ReportsYamlSyntaxAtItsStart()
    {
        var yaml = Policies.Minimal + "\n---\nversion: 1\n";

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.YamlSyntax, 4, 1);
    }

    [Fact]
    public void Load_SecondDocument_StillChecksTheFirst()
    {
        var result = LoadAssertions.Load("version: 3\nroles: {a: {}}\n---\n");

        result.Positions().Should().Equal((DiagnosticCodes.UnsupportedVersion, 1, 10), (DiagnosticCodes.YamlSyntax, 3, 1));
    }

    [Fact]
    public void Load_UndefinedAlias_ReportsYamlSyntax()
    {
        const string yaml = """
            version: 1
            roles:
              a:
                allow: *rules
            """;

        var error = LoadAssertions.Load(yaml).SingleError();

        error.ShouldBe(DiagnosticCodes.YamlSyntax, 4, 12);
        error.Message.Should().Contain("*rules");
    }

    [Fact]
    public void Load_AliasInsideItsOwnAnchor_ReportsYamlSyntax()
    {
        LoadAssertions.Load("version: 1\nroles: &r {a: *r}\n").SingleError().ShouldBe(DiagnosticCodes.YamlSyntax, 2, 15);
    }

    [Theory]
    [InlineData("version: 1\nroles: {a: [b, {c: d]}\n", 2, 21)]
    [InlineData("version: 1\nroles: [a, b\n", 3, 1)]
    [InlineData("version: 1\nroles: a: b\n", 2, 9)]
    [InlineData("version: 1\nroles:\n\t- a\n", 3, 1)]
    [InlineData("version: 1\n  roles: {}\n", 2, 8)]
    [InlineData("version: 1\nroles: \"a\n", 3, 1)]
    [InlineData("version: 1\nroles: {a: \"b}\n", 3, 1)]
    [InlineData("version: 1\nroles: {a: {}}\n@x: 1\n", 3, 1)]
    public void Load_MalformedYaml_ReportsYamlSyntax(string yaml, int line, int column)
    {
        var error = LoadAssertions.Load(yaml).SingleError();

        error.ShouldBe(DiagnosticCodes.YamlSyntax, line, column);
        error.Message.Should().StartWith("malformed YAML: ");
    }

    [Theory]
    [InlineData("version: 1\nroles: !![]@**\n", 2, 15)]
    [InlineData("version: 1\nroles: [? {@\n?&]\n", 3, 1)]
    public void Load_InputThatMakesTheParserThrowOtherExceptions_ReportsYamlSyntax(string yaml, int line, int column)
    {
        // YamlDotNet 18.1.0 throws ArgumentException (invalid tag URI) and a bare InvalidOperationException here.
        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.YamlSyntax, line, column);
    }

    [Fact]
    public void Load_ManyErrors_ReportsAllInSourceOrder()
    {
        const string yaml = """
            version: "1"
            roles:
              viewer:
                alow: [a on b]
                deny: x
              viewer: {}
              admin:
                kinds: user
            resources:
              - tags: [phi]
            extra: 1
            bindings:
              subjects:
                bob: { roles: [{scope: x}], roles: [] }
            """;

        var result = LoadAssertions.Load(yaml);

        result.Succeeded.Should().BeFalse();
        result.Positions().Should().Equal(
            (DiagnosticCodes.UnsupportedVersion, 1, 10),
            (DiagnosticCodes.UnknownKey, 4, 5),
            (DiagnosticCodes.WrongType, 5, 11),
            (DiagnosticCodes.DuplicateKey, 6, 3),
            (DiagnosticCodes.WrongType, 8, 12),
            (DiagnosticCodes.MissingKey, 10, 5),
            (DiagnosticCodes.UnknownKey, 11, 1),
            (DiagnosticCodes.MissingKey, 14, 20),
            (DiagnosticCodes.DuplicateKey, 14, 33));
        result.Diagnostics.Should().OnlyContain(d => d.Location.Source == LoadAssertions.Source);
    }

    [Fact]
    public void Load_ErrorInAliasedNode_IsReportedOnce()
    {
        const string yaml = """
            version: 1
            roles:
              a: &body
                allow: x
              b: *body
              c: *body
            """;

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.WrongType, 4, 12);
    }

    [Fact]
    public void Load_ThousandsOfErrors_ReportsTheFirstThousandAndSaysTheRestWereDropped()
    {
        var yaml = "version: 1\nroles:\n  viewer:\n    allow: [" + string.Join(", ", Enumerable.Repeat("{}", 5000)) + "]\n";

        var result = LoadAssertions.Load(yaml);

        result.Diagnostics.Should().HaveCount(1001);
        result.Diagnostics.Take(1000).Should().OnlyContain(d => d.Code == DiagnosticCodes.WrongType);
        result.Diagnostics[0].ShouldBe(DiagnosticCodes.WrongType, 4, 13);
        var last = result.Diagnostics[1000];
        last.ShouldBe(DiagnosticCodes.LimitExceeded, 4, 13 + (1000 * 4));
        last.Message.Should().Be("more than 1000 errors; the rest are not reported");
    }

    [Fact]
    public void Load_LongUnknownKey_IsShortenedInTheMessage()
    {
        var key = new string('k', 10_000);

        // An explicit key: YAML caps implicit keys at 1024 characters.
        var error = LoadAssertions.Load("version: 1\nroles: {a: {}}\n? " + key + "\n: 1\n").SingleError();

        error.ShouldBe(DiagnosticCodes.UnknownKey, 3, 3);
        error.Message.Should().StartWith("unknown key '" + new string('k', 80) + "...' in the policy");
        error.Message.Length.Should().BeLessThan(300);
    }
}
