using System.Text.Json;
using System.Text.RegularExpressions;

namespace Lepton.Tests.Infra;

/// <summary>A resource of the compiled template, with how many instances it has for given parameter values and the module it sits in.</summary>
public sealed record ArmResource(string Type, JsonElement Json, int Instances, string Module, string? Condition, JsonElement Variables)
{
    /// <summary>Role definition ids the resource refers to, with variables('x') and variables('x').y resolved from its module.</summary>
    public IReadOnlySet<string> RoleIds()
    {
        string text = Json.GetProperty("properties").GetProperty("roleDefinitionId").GetString()!;
        var ids = new HashSet<string>(ArmTemplate.Guids(text), StringComparer.OrdinalIgnoreCase);
        foreach (System.Text.RegularExpressions.Match m in ArmTemplate.VariableReference().Matches(text))
        {
            if (Variables.ValueKind == JsonValueKind.Object && Variables.TryGetProperty(m.Groups[1].Value, out JsonElement value))
            {
                JsonElement resolved = m.Groups[2].Success && value.ValueKind == JsonValueKind.Object ? value.GetProperty(m.Groups[2].Value) : value;
                ids.UnionWith(ArmTemplate.Guids(resolved.ToString()));
            }
        }

        return ids;
    }
}

/// <summary>
/// Flattens the compiled ARM JSON (nested module deployments) into resources with instance counts. Copy counts are
/// evaluated for the forms Bicep emits here: literals, length(parameters('x')) at the top level, length(createArray(...)).
/// </summary>
public static partial class ArmTemplate
{
    public static IReadOnlyList<ArmResource> Resources(JsonDocument template, JsonElement parameters)
    {
        var all = new List<ArmResource>();
        Walk(template.RootElement, parameters, 1, "main", all);
        return all;
    }

    private static void Walk(JsonElement template, JsonElement parameters, int multiplier, string module, List<ArmResource> into)
    {
        JsonElement variables = template.TryGetProperty("variables", out JsonElement v) ? v : default;
        foreach (JsonElement resource in template.GetProperty("resources").EnumerateArray())
        {
            int count = resource.TryGetProperty("copy", out JsonElement copy) ? Count(copy.GetProperty("count"), parameters) : 1;
            string? condition = resource.TryGetProperty("condition", out JsonElement c) ? c.ToString() : null;
            string type = resource.GetProperty("type").GetString()!;
            if (type == "Microsoft.Resources/deployments")
            {
                string name = resource.GetProperty("name").GetString()!;
                Walk(resource.GetProperty("properties").GetProperty("template"), parameters, multiplier * count, name, into);
            }

            into.Add(new ArmResource(type, resource, multiplier * count, module, condition, variables));
        }
    }

    private static int Count(JsonElement count, JsonElement parameters)
    {
        if (count.ValueKind == JsonValueKind.Number)
        {
            return count.GetInt32();
        }

        string expression = count.GetString()!;
        if (LengthOfParameter().Match(expression) is { Success: true } p)
        {
            return parameters.GetProperty(p.Groups[1].Value).GetProperty("value").GetArrayLength();
        }

        if (LengthOfCreateArray().Match(expression) is { Success: true } a)
        {
            // Items here are names and role ids, which contain no commas.
            return a.Groups[1].Value.Count(ch => ch == ',') + 1;
        }

        throw new NotSupportedException($"Copy count '{expression}' is not evaluated by this test helper.");
    }

    public static IEnumerable<string> Guids(string text) => GuidPattern().Matches(text).Select(m => m.Value);

    [GeneratedRegex(@"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial Regex GuidPattern();

    [GeneratedRegex(@"variables\('(\w+)'\)(?:\.(\w+))?")]
    internal static partial Regex VariableReference();

    [GeneratedRegex(@"^\[length\(parameters\('(\w+)'\)\)\]$")]
    private static partial Regex LengthOfParameter();

    [GeneratedRegex(@"^\[length\(createArray\((.*)\)\)\]$")]
    private static partial Regex LengthOfCreateArray();
}
