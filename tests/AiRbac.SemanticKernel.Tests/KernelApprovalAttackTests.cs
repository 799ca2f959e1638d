using AiRbac.Extensions.AI;
using AiRbac.IntegrationTests;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace AiRbac.SemanticKernel.Tests;

/// <summary>
/// Red-team tests of tool-call arguments and approvals in Semantic Kernel (docs/integrations.md, "Semantic Kernel"):
/// <see cref="KernelArguments"/> are case-insensitive and may hold any CLR value; the model re-issues an approved call.
/// </summary>
public sealed class KernelApprovalAttackTests
{
    private readonly List<string> ran = [];
    private readonly AgentPolicyV2.ApprovalStore store = new();

    public static TheoryData<string, object?> NonStrings() => new()
    {
        { "table", 42 },
        { "table", 4.2 },
        { "table", new[] { "sales_1" } },
        { "table", new Uri("https://example.com/sales_1") },
        { "TABLE", "hr_salaries" },
        { "Table", "sales_1" },
    };

    [Theory]
    [MemberData(nameof(NonStrings))]
    public async Task KernelArguments_ThatAreNotTheDeclaredStringKey_NeverRun(string name, object? value)
    {
        // arg.table is a string key: another type is invalid_request; another case is another key (arg.TABLE), so the
        // condition on arg.table fails, though Semantic Kernel would bind it to the parameter table.
        var kernel = Kernel().WithAiRbac(new AiRbacChatContext(AgentPolicyV2.Bot));

        var result = await kernel.InvokeAsync(kernel.Plugins.GetFunction("ops", "sql_query"), new KernelArguments { [name] = value });

        ran.Should().BeEmpty();
        result.GetValue<object>()?.ToString().Should().MatchRegex("invalid_request|condition_failed");
    }

    [Fact]
    public async Task ModelCall_WithTwoNamesOfOneArgument_RunsOnlyWithTheValueThatWasDecided()
    {
        // {"table":"sales_1","TABLE":"hr_salaries"}: KernelArguments ignores case, so one value reaches the function;
        // the filter decides on the KernelArguments the function binds from.
        var model = new ScriptedModel(
            _ => new ChatResponse(new ChatMessage(ChatRole.Assistant, [new Microsoft.Extensions.AI.FunctionCallContent("c1", "ops_sql_query", new Dictionary<string, object?> { ["table"] = "sales_1", ["TABLE"] = "hr_salaries" })])),
            _ => ScriptedModel.Text("done"));
        var kernel = Kernel().WithAiRbac(new AiRbacChatContext(AgentPolicyV2.Bot));
        var service = model.AsBuilder().UseKernelFunctionInvocation().Build().AsChatCompletionService();
        var history = new ChatHistory();
        history.AddUserMessage("sales please");

        try
        {
            await service.GetChatMessageContentsAsync(history, new PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() }, kernel);
        }
        catch (ArgumentException)
        {
            // Semantic Kernel itself refuses two keys that differ only in case (KernelArguments ignores case): nothing ran.
        }

        ran.Where(r => r != "sql_query sales_1").Should().BeEmpty();
    }

    [Fact]
    public async Task ApprovedCall_ReissuedByTheModelUnderANewCallId_IsAskedAgain()
    {
        // A store that keeps approvals by fingerprint (as the sample does): rita approved one deployment of prod-eu; the
        // injected model calls it again and again. It runs once.
        var model = new ScriptedModel(
            _ => Deploy("c1"), _ => ScriptedModel.Text("deployed"),
            _ => Deploy("c2"), _ => ScriptedModel.Text("deployed"),
            _ => Deploy("c3"), _ => ScriptedModel.Text("deployed"));
        string? fingerprint = null;
        var granted = new List<Approval>();
        var kernel = Kernel().WithAiRbac(new AiRbacChatContext(AgentPolicyV2.Bot)
        {
            ApprovalProvider = call => { fingerprint ??= call.Fingerprint; return call.Fingerprint == fingerprint ? granted : []; },
        });
        var service = model.AsBuilder().UseKernelFunctionInvocation().Build().AsChatCompletionService();
        async Task Say(string text)
        {
            var history = new ChatHistory();
            history.AddUserMessage(text);
            await service.GetChatMessageContentsAsync(history, new PromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() }, kernel);
        }

        await Say("deploy");
        granted.Add(new Approval("rita", "prod-deploy", DateTimeOffset.UtcNow.AddMinutes(-1)));
        await Say("deploy");
        await Say("deploy");

        ran.Should().Equal("deploy prod-eu");
    }

    private static ChatResponse Deploy(string callId)
        => new(new ChatMessage(ChatRole.Assistant, [new Microsoft.Extensions.AI.FunctionCallContent(callId, "ops_deploy_model", new Dictionary<string, object?> { ["model"] = "prod-eu" })]));

    private Kernel Kernel()
    {
        var kernel = new Kernel();
        kernel.Plugins.Add(KernelPluginFactory.CreateFromFunctions("ops", [
            KernelFunctionFactory.CreateFromMethod((string table) => { ran.Add("sql_query " + table); return "rows of " + table; }, "sql_query"),
            KernelFunctionFactory.CreateFromMethod((string model) => { ran.Add("deploy " + model); return "deployed " + model; }, "deploy_model"),
        ]));
        return kernel.UseAiRbac(AgentPolicyV2.Authorizer());
    }
}
