package card_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/gchatkit/gchat/card"
)

func Example() {
	service := "checkout<api>" // user data: escape it
	c := card.New("Deploy finished",
		card.NewSection("",
			card.Decorated("Service", card.Escape(service)),
			card.Text("<b>3</b> pods restarted"),
			card.Divider(),
			card.Buttons(card.LinkButton("Open logs", "https://logs.example.com/d/42")),
		),
	)
	cards := []card.CardWithID{{CardID: "deploy", Card: c}}
	if err := card.Check(cards, "cardsV2").Err(); err != nil {
		fmt.Println(err)
		return
	}

	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false) // card text is HTML: keep it readable
	enc.SetIndent("", " ")
	_ = enc.Encode(map[string]any{"cardsV2": cards})
	// Output:
	// {
	//  "cardsV2": [
	//   {
	//    "cardId": "deploy",
	//    "card": {
	//     "header": {
	//      "title": "Deploy finished"
	//     },
	//     "sections": [
	//      {
	//       "widgets": [
	//        {
	//         "decoratedText": {
	//          "topLabel": "Service",
	//          "text": "checkout&lt;api&gt;"
	//         }
	//        },
	//        {
	//         "textParagraph": {
	//          "text": "<b>3</b> pods restarted"
	//         }
	//        },
	//        {
	//         "divider": {}
	//        },
	//        {
	//         "buttonList": {
	//          "buttons": [
	//           {
	//            "text": "Open logs",
	//            "onClick": {
	//             "openLink": {
	//              "url": "https://logs.example.com/d/42"
	//             }
	//            }
	//           }
	//          ]
	//         }
	//        }
	//       ]
	//      }
	//     ]
	//    }
	//   }
	//  ]
	// }
}

func ExampleEscape() {
	fmt.Println(card.Escape("if a < b && c > d"))
	// Output: if a &lt; b &amp;&amp; c &gt; d
}

func ExampleCheck() {
	cards := []card.CardWithID{{Card: card.New("Alert",
		card.NewSection("Q&A"),
		card.NewSection("",
			card.Text("CPU <blink>high</blink>"),
			card.Buttons(card.LinkButton("Dashboard", "/d/cpu")),
		),
	)}}
	ps := card.Check(cards, "cardsV2")
	fmt.Println(ps.Error())
	fmt.Println("sendable:", ps.Err() == nil)
	// Output:
	// cardsV2[0].card.sections[0]: section has no widgets
	// cardsV2[0].card.sections[1].widgets[0].textParagraph.text: warning: tag <blink> is not in the card HTML subset (b i u s font a time br code pre ul ol li)
	// cardsV2[0].card.sections[1].widgets[1].buttonList.buttons[0].onClick.openLink.url: link url "/d/cpu" is not an absolute http or https URL
	// sendable: false
}

func ExampleProblems_Err() {
	cards := []card.CardWithID{{Card: card.New("Note", card.NewSection("", card.Text("R&D")))}}
	ps := card.Check(cards, "cardsV2")
	fmt.Println("warnings:", len(ps.Warnings()))
	fmt.Println("error:", ps.Err())
	// Output:
	// warnings: 1
	// error: <nil>
}
