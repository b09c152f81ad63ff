using System.Runtime.CompilerServices;
using System.Text.Json;
using Lepton.Prediction;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Formatters;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lepton.Functions.Http;

/// <summary>
/// The predict routes' 200: the same bytes and content type as an <see cref="OkObjectResult"/> formatted by MVC (the API
/// offers JSON only, so MVC ignores the Accept header too), written straight into the response's pipe. MVC's formatter
/// selection and its serializer, which walks a stack of frames through metadata for each object and dictionary, cost
/// about as much as scoring a row; generated serialization code does not apply, since it requires the default escaping
/// and MVC relaxes it. The writer takes the settings of MVC's JSON formatter, and a unit test holds the bytes to MVC's.
/// </summary>
public sealed class PredictionResult(PredictionResponse response) : OkObjectResult(response)
{
    public const string ContentType = "application/json; charset=utf-8";

    private static readonly JsonEncodedText Model = JsonEncodedText.Encode("model");
    private static readonly JsonEncodedText Version = JsonEncodedText.Encode("version");
    private static readonly JsonEncodedText Predictions = JsonEncodedText.Encode("predictions");
    private static readonly JsonEncodedText Label = JsonEncodedText.Encode("label");
    private static readonly JsonEncodedText Score = JsonEncodedText.Encode("score");
    private static readonly JsonEncodedText Probabilities = JsonEncodedText.Encode("probabilities");

    // Read once per MVC configuration; null where MVC has no System.Text.Json formatter (then MVC formats the answer).
    private static readonly ConditionalWeakTable<MvcOptions, StrongBox<JsonWriterOptions>?> WriterOptions = new();

    public override async Task ExecuteResultAsync(ActionContext context)
    {
        if (WriterOptions.GetValue(context.HttpContext.RequestServices.GetRequiredService<IOptions<MvcOptions>>().Value, FormatterSettings) is not { } options)
        {
            await base.ExecuteResultAsync(context);
            return;
        }

        HttpResponse http = context.HttpContext.Response;
        http.StatusCode = StatusCodes.Status200OK;
        http.ContentType = ContentType;
        using (var writer = new Utf8JsonWriter(http.BodyWriter, options.Value))
        {
            Write(writer, response);
        }

        await http.BodyWriter.FlushAsync(context.HttpContext.RequestAborted);
    }

    private static StrongBox<JsonWriterOptions>? FormatterSettings(MvcOptions mvc) =>
        mvc.OutputFormatters.OfType<SystemTextJsonOutputFormatter>().FirstOrDefault()?.SerializerOptions is { } json
            ? new StrongBox<JsonWriterOptions>(new JsonWriterOptions { Encoder = json.Encoder, Indented = json.WriteIndented, MaxDepth = json.MaxDepth })
            : null;

    private static void Write(Utf8JsonWriter writer, PredictionResponse response)
    {
        writer.WriteStartObject();
        writer.WriteString(Model, response.Model);
        writer.WriteNumber(Version, response.Version);
        writer.WriteStartArray(Predictions);
        foreach (var prediction in response.Predictions)
        {
            writer.WriteStartObject();
            writer.WriteString(Label, prediction.Label);
            writer.WriteNumber(Score, prediction.Score);
            if (prediction.Probabilities is { } probabilities)
            {
                writer.WriteStartObject(Probabilities);
                foreach ((string name, float probability) in probabilities)
                {
                    writer.WriteNumber(name, probability);
                }

                writer.WriteEndObject();
            }
            else
            {
                writer.WriteNull(Probabilities);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
