using AiRbac.IntegrationTests;
using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI.Tests;

/// <summary>
/// One <see cref="FunctionInvokingChatClient"/> can ask one policy: AiRbac refuses to put a second policy on it (rather
/// than leave the second tenant decided by the first's), keeps one decision when the same policy is installed twice, and
/// decides a request whose context provider throws for the anonymous subject.
/// </summary>
public sealed class SharedInvokerTests
{
    private readonly Tools tools = new();

    [Fact]
    public void SecondPolicy_OnAnInvokerThatAlreadyAsksOne_IsRefused()
    {
        var invoker = new FunctionInvokingChatClient(new ScriptedChatClient("gpt-4o"));
        invoker.AuthorizeWithAiRbac(TestPolicy.Authorizer());

        var otherTenant = () => new AiRbacChatClient(invoker, TestPolicy.Authorizer());
        var otherAction = () => invoker.AuthorizeWithAiRbac(TestPolicy.Authorizer(), new AiRbacChatClientOptions { ToolAction = "tool:run" });

        otherTenant.Should().Throw<InvalidOperationException>().WithMessage("*another AiRbac policy*");
        otherAction.Should().Throw<InvalidOperationException>().WithMessage("*another AiRbac policy*");
    }

    [Fact]
    public async Task SamePolicy_InstalledTwice_DecidesEachInvocationOnce()
    {
        var decided = new List<string>();
        var authorizer = new PolicyAuthorizer([new Recorder(decided)]);
        authorizer.Update(TestPolicy.Authorizer().Policy, new PolicyVersion("test", DateTimeOffset.UnixEpoch));
        var model = new ScriptedChatClient("gpt-4o", _ => ScriptedChatClient.Calls(("c1", "search")), _ => ScriptedChatClient.Text("ok"));
        var invoker = new FunctionInvokingChatClient(model) { AdditionalTools = [tools.Make("search")] };
        invoker.AuthorizeWithAiRbac(authorizer);
        invoker.AuthorizeWithAiRbac(authorizer);

        await invoker.GetResponseAsync("go", new ChatOptions().WithAiRbac(TestPolicy.Alice));

        tools.Ran.Should().Equal("search");
        decided.Should().Equal("tool:search");
    }

    [Fact]
    public async Task ContextProviderThatThrows_IsTheAnonymousSubject_AndTheModelIsToldWhy()
    {
        var model = new ScriptedChatClient("gpt-4o", _ => ScriptedChatClient.Calls(("c1", "search")), _ => ScriptedChatClient.Text("ok"));
        var invoker = new FunctionInvokingChatClient(model) { AdditionalTools = [tools.Make("search")] };
        invoker.AuthorizeWithAiRbac(TestPolicy.Authorizer(), new AiRbacChatClientOptions { ContextProvider = _ => throw new InvalidOperationException("identity store down") });

        await invoker.GetResponseAsync("go", new ChatOptions().WithAiRbac(TestPolicy.Alice));

        tools.Ran.Should().BeEmpty();
        model.Requests[1].Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Single().Result?.ToString()
            .Should().Be("Tool 'search' was not run: access denied (missing_identity).");
    }

    private sealed class Recorder(List<string> decided) : IDecisionObserver
    {
        public void OnDecision(in DecisionRecord record) => decided.Add(record.Resource.Name);
    }
}
