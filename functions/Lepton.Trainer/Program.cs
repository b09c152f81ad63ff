using Lepton.Trainer;
using Lepton.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Services.AddOptions<TrainerOptions>().Bind(builder.Configuration.GetSection(TrainerOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddHttpClient<HeavyTrainingWorker>();
builder.Services.AddHostedService<TrainerService>();
await builder.Build().RunAsync();
