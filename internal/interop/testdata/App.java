// Written the way Google's Java webhook quickstart is (App.java): Java 11+
// java.net.http.HttpClient, only an "accept" header and no Content-Type.
// Run as a single source file: java App.java WEBHOOK_URL
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

public class App {
  private static final HttpClient client = HttpClient.newHttpClient();

  private static void post(String url, String json) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(url))
        .header("accept", "application/json; charset=UTF-8")
        .POST(HttpRequest.BodyPublishers.ofString(json))
        .build();
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new RuntimeException("HTTP " + response.statusCode() + ": " + response.body());
    }
    System.out.println(response.body());
  }

  public static void main(String[] args) throws Exception {
    String url = args[0];
    post(url, "{\"text\":\"Hello from Java!\"}");
    String threaded = url + "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD";
    post(threaded, "{\"text\":\"Java thread start\",\"thread\":{\"threadKey\":\"java-thread\"}}");
    post(threaded, "{\"text\":\"Java thread reply\",\"thread\":{\"threadKey\":\"java-thread\"}}");
  }
}
