using AiRbac.Requests;

namespace AiRbac.Yaml.Tests;

/// <summary>Small edges where the outside world meets the engine (issue "trust boundaries", item 6).</summary>
public class TrustBoundaryTests
{
    private const string Policy = """
        version: 1
        roles:
          viewer:
            allow: [ "model:query on model:*" ]
          admin:
            allow: [ "** on **" ]
        """;

    private static CompiledPolicy Compile(string yaml) => YamlPolicy.Compile(yaml, "p.yaml").Policy!;

    [Fact]
    public void SubjectRoles_CannotBeChangedThroughTheList()
    {
        // The attacker's test: cast the list back to what backs it and rewrite a binding after the first decision.
        var policy = Compile(Policy);
        var subject = Subject.WithRoles("u", SubjectKind.User, "viewer");
        policy.Authorize(subject, "model:deploy", "model:x").Allowed.Should().BeFalse();

        subject.Roles.Should().NotBeAssignableTo<RoleBinding[]>();
        var list = (IList<RoleBinding>)subject.Roles!;
        FluentActions.Invoking(() => list[0] = new RoleBinding("admin")).Should().Throw<NotSupportedException>();
        subject.Roles!.Select(r => r.Role).Should().Equal("viewer");
        policy.Authorize(subject, "model:deploy", "model:x").Allowed.Should().BeFalse();
    }

    [Fact]
    public void SubjectRoles_AreACopy_OfTheCallersCollection()
    {
        var bindings = new[] { new RoleBinding("viewer") };
        var subject = new Subject("u", SubjectKind.User, bindings);
        bindings[0] = new RoleBinding("admin");

        subject.Roles!.Single().Role.Should().Be("viewer");
        subject.ActingFor(subject).Roles!.Single().Role.Should().Be("viewer");
    }

    [Fact]
    public void Expires_InYearZero_IsLongExpired()
    {
        var policy = Compile(Policy);
        var subject = new Subject("u", SubjectKind.User, [new RoleBinding("viewer", Expires: ParseOrThrow("0000-01-01T00:00:00Z"))]);
        var line = RequestJson.ParseRequest("""{"subject":"u","roles":[{"role":"viewer","expires":"0000-06-01T00:00:00Z"}],"action":"model:query","resource":"model:x"}""");

        policy.Authorize(subject, "model:query", "model:x").Reason.Should().Be(DecisionReason.NoActiveRole);
        line.AuthorizeWith(policy).Reason.Should().Be(DecisionReason.NoActiveRole);
    }

    [Theory]
    [InlineData("\u001b[8mviewer")]
    [InlineData("view\u202Eer")]
    [InlineData("viewer\nfake.yaml:1:1: error")]
    [InlineData("viewer\u0085")]
    public void PolicyNames_WithControlOrBidiCharacters_AreRefused_AndTheMessageIsSafeToPrint(string name)
    {
        string yaml = $"version: 1\nroles:\n  \"{Yaml(name)}\":\n    allow: [ \"model:query on model:*\" ]\n";

        var compilation = YamlPolicy.Compile(yaml, "p.yaml");

        compilation.Policy.Should().BeNull();
        var error = compilation.Diagnostics.Should().ContainSingle(d => d.Code == "invalid_value").Subject;
        error.Location.Line.Should().Be(3);
        error.Message.Should().Contain("control or bidirectional formatting character");
        compilation.Diagnostics.Should().AllSatisfy(d => d.ToString().Should().NotContainAny("\u001b", "\u202E", "\n", "\u0085"));
    }

    [Theory]
    [InlineData("resources:\n  - match: \"model:*\"\n    tags: [ \"ph\\ei\" ]\nroles:\n  r:\n    allow: [ \"model:query on model:*\" ]\n", 4)]
    [InlineData("roles:\n  r:\n    allow: [ \"model:query on model:*\" ]\n    deny: [ \"model:deploy on model:\\e[0m\" ]\n", 5)]
    [InlineData("roles:\n  r:\n    allow: [ \"model:query on model:*\" ]\nbindings:\n  subjects:\n    \"bob\\u2066\": { roles: [r] }\n", 7)]
    public void EveryTextOfAPolicy_IsChecked(string body, int line)
    {
        var compilation = YamlPolicy.Compile("version: 1\n" + body, "p.yaml");

        compilation.Policy.Should().BeNull();
        compilation.Diagnostics.Should().Contain(d => d.Code == "invalid_value" && d.Location.Line == line, string.Join("\n", compilation.Diagnostics));
    }

    [Theory]
    [InlineData("""{"subject":"\u001b[8mu","action":"x:y","resource":"r:s"}""")]
    [InlineData("""{"subject":"u","action":"x:y","resource":"r:\u202Es"}""")]
    [InlineData("""{"subject":"u","action":"x:y","resource":"r:s","tags":["\u0007"]}""")]
    public void RequestLines_WithControlOrBidiCharacters_AreBadLines(string line)
        => FluentActions.Invoking(() => RequestJson.ParseRequest(line)).Should().Throw<RequestFormatException>()
            .WithMessage("*control or bidirectional formatting character*");

    [Fact]
    public void RequestFormatMessages_NeverCarryControlCharacters()
    {
        // An unknown field name is echoed in the message: it is escaped, never printed raw.
        var thrown = FluentActions.Invoking(() => RequestJson.ParseRequest("""{"\u001b[8m":"u","action":"x:y","resource":"r:s"}"""))
            .Should().Throw<RequestFormatException>().Which;

        thrown.Message.Should().Contain("\\u001B[8m").And.NotContain("\u001b");
    }

    private static DateTimeOffset ParseOrThrow(string text) => Rfc3339.TryParse(text, out var value) ? value : throw new FormatException(text);

    // A name written inside a YAML double-quoted scalar: every character escaped as \uXXXX or \UXXXXXXXX.
    private static string Yaml(string name) => string.Concat(name.Select(c => c is >= ' ' and <= '~' and not '"' and not '\\' ? c.ToString() : $"\\u{(int)c:X4}"));
}
