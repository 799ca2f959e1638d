namespace AiRbac.Core.Tests;

public class PolicyAuthorizerTests
{
    private sealed class Recorder : IDecisionObserver
    {
        public List<(string Subject, string Action, string Resource, DecisionReason Reason, PolicyVersion Version)> Records { get; } = [];

        public void OnDecision(in DecisionRecord record)
            => Records.Add((record.Subject.Id, record.Action, record.Resource.Name, record.Decision.Reason, record.Version));
    }

    [Fact]
    public void Authorize_BeforeAnyPolicy_DeniesEverything()
    {
        var authorizer = new PolicyAuthorizer();
        authorizer.HasPolicy.Should().BeFalse();
        authorizer.Version.Should().BeSameAs(PolicyVersion.None);
        authorizer.Authorize(Subject.WithRoles("bob", SubjectKind.User, "admin"), "model:query", "model:x").Reason.Should().Be(DecisionReason.NoActiveRole);
        authorizer.Authorize(new Subject("bob"), "model:query", "model:x").Reason.Should().Be(DecisionReason.MissingIdentity);
    }

    [Fact]
    public void Update_SwapsPolicy_AndObserversSeeEveryDecisionWithItsVersion()
    {
        var recorder = new Recorder();
        var authorizer = new PolicyAuthorizer([recorder]);
        var v1 = new PolicyVersion("abc", TestPolicy.Now);
        authorizer.Update(new TestPolicy().Role("r", allow: ["a:b on c:d"]).Build(), v1);
        var s = Subject.WithRoles("u", SubjectKind.User, "r");
        authorizer.Authorize(s, "a:b", "c:d").Allowed.Should().BeTrue();
        authorizer.Authorize(s, "a:b", "c:e").Allowed.Should().BeFalse();
        var v2 = new PolicyVersion("def", TestPolicy.Now);
        authorizer.Update(new TestPolicy().Role("r", allow: ["a:b on c:e"]).Build(), v2);
        authorizer.Authorize(s, "a:b", "c:e").Allowed.Should().BeTrue();
        recorder.Records.Select(r => (r.Reason, r.Version.ContentHash)).Should().Equal(
            (DecisionReason.Allowed, "abc"), (DecisionReason.NoMatchingGrant, "abc"), (DecisionReason.Allowed, "def"));
    }
}
